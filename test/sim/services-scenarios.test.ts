import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runSimulation, type SimRunResult } from '../../src/sim/run.js';
import { SERVICE_SCENARIOS, SYNC_STEPS } from '../../src/sim/services/scenarios.js';
import type { ServicesChecker } from '../../src/sim/services/services-checker.js';
import { makeServicesCore, servicesCoreFactory } from '../../src/sim/services/services-core.js';

function run(name: string, seed = 1): SimRunResult {
  const sc = SERVICE_SCENARIOS.find((s) => s.name === name);
  assert.ok(sc, `no scenario ${name}`);
  return runSimulation({ ...sc.build(seed, makeServicesCore), recorderSlots: 2048 });
}

for (const step of SYNC_STEPS) {
  for (const action of ['join', 'fail'] as const) {
    const name = `sync-${action}-at-${step}`;
    test(`scenario ${name}: the invariants hold when ${action === 'join' ? 'a node joins' : 'a member fails'} at sync ${step}`, () => {
      const r = run(name);
      assert.equal(r.violation, undefined, JSON.stringify(r.violation));
      // Evidence: the action was taken while a round was at that step, rounds still completed.
      assert.ok((r.world.scenarioCounts.acted ?? 0) >= 2, `acted ${JSON.stringify(r.world.scenarioCounts)}`);
      assert.ok((r.world.scenarioCounts[`at-${step}`] ?? 0) >= 2);
      const checker = r.world.checker as ServicesChecker;
      assert.ok(checker.rounds.completed > 5 && checker.rounds.aborted > 0, JSON.stringify(checker.rounds));
      assert.ok(checker.load.counters().activationsChecked! > 5);
    });
  }
}

test('scenario ckpt-sync-frame-fill: sync SECTION messages fill frames exactly, empty ones too, while members join and leave', () => {
  const r = run('ckpt-sync-frame-fill');
  assert.equal(r.violation, undefined, JSON.stringify(r.violation));
  const c = r.world.coreCounters();
  // The 2008 shape went over the wire: empty sections whose message ends at a frame's end.
  assert.ok(c.emptySectionExactFits! >= 5, `empty-section exact fits ${c.emptySectionExactFits}`);
  assert.ok(c.sectionExactFits! > c.emptySectionExactFits!);
  assert.ok(r.faultCounts.leaves! > 0 && r.faultCounts.crashes! > 0 && r.faultCounts.joins! > 0);
  assert.ok(r.faultCounts.restarts! > 3);
  const checker = r.world.checker as ServicesChecker;
  assert.ok(checker.rounds.completed > 20);
  assert.ok(checker.load.counters().trackedSectionsChecked! > 50);
});

test('the services core is deterministic: one seed, one trace', () => {
  const opts = { seed: 11, nodes: 4, durationMs: 1500, recorderSlots: 256 } as const;
  const a = runSimulation({ ...opts, core: servicesCoreFactory() });
  const b = runSimulation({ ...opts, core: servicesCoreFactory() });
  assert.equal(a.violation, undefined, JSON.stringify(a.violation));
  assert.equal(a.traceHash, b.traceHash);
  assert.equal(a.events, b.events);
  assert.deepEqual(a.world.coreCounters(), b.world.coreCounters());
  const c = runSimulation({ ...opts, seed: 12, core: servicesCoreFactory() });
  assert.notEqual(c.traceHash, a.traceHash);
});
