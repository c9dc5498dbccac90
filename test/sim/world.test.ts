import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseFaults } from '../../src/sim/faults.js';
import { runSimulation } from '../../src/sim/run.js';
import { toySequencerFactory } from './toy-sequencer.js';

const members = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

test('a clean toy cluster delivers everything everywhere and passes every check', () => {
  const r = runSimulation({ seed: 1, nodes: 4, core: toySequencerFactory(members(4)), durationMs: 2000 });
  assert.equal(r.violation, undefined, JSON.stringify(r.violation));
  assert.ok(r.accepted > 200, `accepted ${r.accepted}`);
  assert.ok(r.deliveries >= r.accepted * 4, `deliveries ${r.deliveries}`);
});

test('the toy cluster survives loss, duplication, reordering, held-back multicast and pauses', () => {
  const faults = parseFaults('loss=0.1,dup=0.05,reorder=0.2,mdelay=0.2,pause');
  const r = runSimulation({
    seed: 7,
    nodes: 5,
    core: toySequencerFactory(members(5)),
    durationMs: 3000,
    faults,
  });
  assert.equal(r.violation, undefined, JSON.stringify(r.violation));
  assert.ok(r.packets.dropped > 0 && r.packets.duplicated > 0);
  assert.ok(r.faultCounts.pauses! > 0);
});
