import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Host } from '../../src/core/io.js';
import type { SimCore, SimCoreFactory } from '../../src/sim/sim-core.js';
import { World } from '../../src/sim/world.js';

/** A core whose only behaviour is a script of timer calls, logging when timers fire. */
function scripted(fired: [number, number][]): { factory: SimCoreFactory; host: () => Host } {
  let host: Host | undefined;
  const core: SimCore = {
    start() {},
    receive() {},
    timerExpired: (now, timer) => {
      fired.push([timer, now]);
    },
    mcast: () => false,
    sendQueueRoom: () => 0,
    leave() {},
    maxPayload: 0,
    describe: () => 'scripted',
    phase: () => 'scripted',
    counters: () => ({}),
  };
  return {
    host: () => host!,
    factory: {
      name: 'scripted',
      timing: { tokenMs: 100, tokenRetransmitMs: 25, settleMs: 100 },
      create: (ctx) => {
        host = ctx.host;
        return core;
      },
      inspect: () => ({ payloads: [] }),
    },
  };
}

test('timers fire exactly when last armed: re-armed later, re-armed earlier, cancelled, paused', () => {
  const fired: [number, number][] = [];
  const { factory, host } = scripted(fired);
  const w = new World({ seed: 1, nodes: 1, core: factory, startSpreadMs: 0, workload: { ratePerNode: 0 } });
  w.runUntil(0);
  const h = host();
  h.setTimer(1, 100); // later moved to 250
  h.setTimer(2, 100); // later moved earlier, to 70
  h.setTimer(3, 50); // cancelled
  h.setTimer(4, 300); // fires during a pause
  w.at(40, () => {
    h.setTimer(1, 210);
    h.setTimer(2, 30);
    h.cancelTimer(3);
  });
  w.at(280, () => w.pauseNode(1, 100));
  w.runUntil(1000);
  assert.deepEqual(fired, [
    [2, 70],
    [1, 250],
    [4, 380],
  ]);
});
