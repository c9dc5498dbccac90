import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseFaults } from '../../src/sim/faults.js';
import { runSimulation } from '../../src/sim/run.js';
import { World } from '../../src/sim/world.js';
import { probeFactory } from './probe-core.js';

function probeWorld(nodes: number, links = {}) {
  const { factory, log } = probeFactory();
  const world = new World({ seed: 3, nodes, core: factory, startSpreadMs: 0, links });
  return { world, log };
}

const heardBetween = (
  log: ReturnType<typeof probeFactory>['log'],
  from: number,
  to: number,
  t0: number,
  t1: number,
) => log.heard.filter(([r, s, , t]) => r === to && s === from && t >= t0 && t < t1).length;

test('a partition stops traffic between components and healing restores it', () => {
  const { world, log } = probeWorld(4);
  world.runUntil(100);
  world.partition([
    [1, 2],
    [3, 4],
  ]);
  world.runUntil(300);
  world.healNetwork();
  world.runUntil(500);
  assert.ok(heardBetween(log, 1, 3, 0, 100) > 5);
  assert.equal(heardBetween(log, 1, 3, 105, 300), 0);
  assert.equal(heardBetween(log, 4, 2, 105, 300), 0);
  assert.ok(heardBetween(log, 1, 2, 105, 300) > 10);
  assert.ok(heardBetween(log, 3, 4, 105, 300) > 10);
  assert.ok(heardBetween(log, 1, 3, 305, 500) > 10);
});

test('a one-way link failure: B stops hearing A while A still hears B', () => {
  const { world, log } = probeWorld(3);
  world.runUntil(50);
  world.blockLink(1, 2);
  world.runUntil(250);
  world.unblockLink(1, 2);
  world.runUntil(400);
  assert.equal(heardBetween(log, 1, 2, 55, 250), 0);
  assert.ok(heardBetween(log, 2, 1, 55, 250) > 10);
  assert.ok(heardBetween(log, 1, 3, 55, 250) > 10);
  assert.ok(heardBetween(log, 1, 2, 255, 400) > 10);
});

test('a paused process handles nothing until it resumes, then its late timer and queued packets arrive', () => {
  const { world, log } = probeWorld(2);
  world.runUntil(100);
  world.pauseNode(2, 300);
  world.runUntil(399);
  assert.equal(log.heard.filter(([r, , , t]) => r === 2 && t > 100).length, 0);
  assert.equal(log.ticks.filter(([n, t]) => n === 2 && t > 100).length, 0);
  world.runUntil(450);
  const late = log.heard.filter(([r, , , t]) => r === 2 && t === 400);
  assert.ok(late.length >= 25, `queued packets handled at resume: ${late.length}`);
  assert.ok(
    log.ticks.some(([n, t]) => n === 2 && t === 400),
    'the timer fired late, at resume',
  );
  assert.ok(heardBetween(log, 1, 2, 0, 450) > heardBetween(log, 2, 1, 0, 450) - 5);
});

test('a crashed process hears nothing; a restart is a new process that gets its persisted ring seq', () => {
  const { world, log } = probeWorld(3);
  world.runUntil(100);
  world.stopNode(3);
  world.runUntil(200);
  assert.equal(world.isUp(3), false);
  assert.equal(log.heard.filter(([r, , , t]) => r === 3 && t > 100).length, 0);
  assert.equal(heardBetween(log, 3, 1, 105, 200), 0);
  world.startNode(3);
  world.runUntil(300);
  assert.deepEqual(
    log.starts.filter(([n]) => n === 3),
    [
      [3, undefined],
      [3, 100],
    ],
  );
  assert.ok(heardBetween(log, 1, 3, 205, 300) > 5);
  assert.ok(heardBetween(log, 3, 1, 205, 300) > 5);
});

test('a brand-new node can join mid-run and is heard by everyone', () => {
  const { world, log } = probeWorld(3);
  world.runUntil(100);
  world.startNode(4);
  world.runUntil(200);
  assert.deepEqual(world.liveNodes(), [1, 2, 3, 4]);
  for (const n of [1, 2, 3]) assert.ok(heardBetween(log, 4, n, 100, 200) > 5);
  assert.ok(heardBetween(log, 1, 4, 100, 200) > 5);
});

test('loss, duplication and reordering happen at the configured rates', () => {
  const { world, log } = probeWorld(2, { loss: 0.2, dup: 0.1, reorder: 0.3, reorderMaxMs: 30 });
  world.runUntil(5000);
  const sent = world.network.sent;
  assert.ok(Math.abs(world.network.dropped / sent - 0.2) < 0.05, `loss ${world.network.dropped}/${sent}`);
  assert.ok(world.network.duplicated / sent > 0.05);
  const fromOne = log.heard.filter(([r, s]) => r === 2 && s === 1).map(([, , c]) => c);
  assert.ok(
    fromOne.some((c, i) => i > 0 && c < fromOne[i - 1]!),
    'some pings overtook earlier ones',
  );
  assert.ok(
    fromOne.some((c, i) => i > 0 && c === fromOne[i - 1]!),
    'some pings arrived twice',
  );
});

test('the random fault schedule applies every discrete kind', () => {
  const { factory } = probeFactory();
  const r = runSimulation({
    seed: 11,
    nodes: 5,
    core: factory,
    durationMs: 20_000,
    faults: parseFaults('all'),
    workload: { ratePerNode: 0 },
  });
  for (const k of ['crashes', 'restarts', 'joins', 'pauses', 'partitions', 'asymmetric'] as const)
    assert.ok(r.faultCounts[k]! > 0, `${k}: ${JSON.stringify(r.faultCounts)}`);
  assert.equal(r.world.network.partitioned, false, 'the network is whole after the faulty period');
});

test('fault lists parse, and bad words are named', () => {
  const f = parseFaults('loss=0.1,dup=0.01,reorder,partition,pause,crash,join');
  assert.equal(f.loss, 0.1);
  assert.equal(f.dup, 0.01);
  assert.ok(f.reorder > 0 && f.partition && f.pause && f.crash && f.join && !f.asym);
  assert.throws(() => parseFaults('loss=2'), /probability/);
  assert.throws(() => parseFaults('bogus'), /unknown fault 'bogus'/);
});

test('a datagram larger than the MTU is lost when any of its fragments is', async () => {
  const { Network } = await import('../../src/sim/network.js');
  const { Prng } = await import('../../src/sim/prng.js');
  const { CLEAN_LINKS } = await import('../../src/sim/network.js');
  const net = new Network(new Prng(1), { ...CLEAN_LINKS, loss: 0.1 });
  const out = [0, 0];
  const lossRate = (bytes: number) => {
    let lost = 0;
    for (let i = 0; i < 20_000; i++) if (net.plan(1, 2, false, bytes, out) === 0) lost++;
    return lost / 20_000;
  };
  assert.ok(Math.abs(lossRate(1000) - 0.1) < 0.015);
  assert.ok(Math.abs(lossRate(4000) - (1 - 0.9 ** 3)) < 0.015);
});
