import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseFaults } from '../../src/sim/faults.js';
import { runSimulation } from '../../src/sim/run.js';
import { loadByName, plockLoad } from '../../src/sim/services/loads.js';
import { servicesCoreFactory } from '../../src/sim/services/services-core.js';

test('plock load: both ownership modes pass a faulty run with lock traffic, waits and agreeing tables', () => {
  for (const name of ['plock', 'plock-own']) {
    const load = loadByName(name)!;
    assert.equal(load.plock?.ownership, name === 'plock-own');
    const r = runSimulation({
      seed: 11,
      nodes: 4,
      core: servicesCoreFactory({ load }),
      durationMs: 1500,
      faults: parseFaults('loss=0.02,reorder,crash,join'),
      recorderSlots: 4096,
    });
    assert.equal(r.violation, undefined, `${name}: ${JSON.stringify(r.violation)}`);
    const c = r.world.coreCounters();
    assert.ok((c['load.grants'] ?? 0) > 0 && (c['load.waitGrants'] ?? 0) > 0, `${name}: no lock traffic`);
    const inv = (
      r.world.checker as unknown as { load: { counters(): Record<string, number> } }
    ).load.counters();
    assert.ok((inv.plockRoundsCompared ?? 0) > 0, `${name}: no plock tables compared`);
    if (name === 'plock-own') assert.ok((c['plock.claims'] ?? 0) > 0, 'ownership on: resources were claimed');
  }
});

test('plock load: the conflict check fails when the log claims locks held while they were only waited for', () => {
  const r = runSimulation({
    seed: 5,
    nodes: 3,
    core: servicesCoreFactory({ load: plockLoad({ ownership: false, plantHeldFromAsk: true }) }),
    durationMs: 1500,
    faults: parseFaults('loss=0.01'),
    recorderSlots: 4096,
  });
  assert.equal(r.violation?.invariant, 'plock-conflict', JSON.stringify(r.violation));
  assert.match(r.violation!.detail, /conflicting locks held at once/);
});
