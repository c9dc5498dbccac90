import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { ALL_FAULTS, formatFaults } from '../../src/sim/faults.js';
import { srpCoreFactory } from '../../src/sim/srp-core.js';
import { runSweep } from '../../src/sim/sweep.js';
import { knownFailure } from './known-defects.js';

/** Runs seeds first..last over 3..7 nodes with every fault kind, and judges the failures. */
export function sweepSrp(t: TestContext, first: number, last: number): void {
  const durationMs = 1000;
  const counts: Record<string, number> = {};
  const summary = runSweep({
    seeds: [first, last],
    nodes: [3, 7],
    core: srpCoreFactory(),
    durationMs,
    faults: ALL_FAULTS,
    keepGoing: true,
    extra: { recorderSlots: 256 },
    onResult: (r) => {
      for (const [k, n] of Object.entries(r.faultCounts)) counts[k] = (counts[k] ?? 0) + n;
    },
  });
  assert.equal(summary.runs, last - first + 1);
  const unknown = summary.failed.filter((f) => !knownFailure(f));
  const replay = (seed: number, nodes: number) =>
    `totem sim --seed ${seed} --nodes ${nodes} --duration 1s --faults ${formatFaults(ALL_FAULTS)}`;
  assert.deepEqual(
    unknown.map((f) => `${f.invariant}: ${f.detail} [${replay(f.seed, f.nodes)}]`),
    [],
    'violations that are not known core failures (test/sim/known-defects.ts)',
  );
  t.diagnostic(
    `${summary.passed}/${summary.runs} seeds passed; known failures: ${
      summary.failed.map((f) => f.seed).join(', ') || 'none'
    }; simulated ${(summary.simMs / 1000).toFixed(0)} s`,
  );
  t.diagnostic(`faults applied: ${JSON.stringify(counts)}`);
  for (const k of ['crashes', 'leaves', 'restarts', 'joins', 'pauses', 'partitions', 'asymmetric'])
    assert.ok((counts[k] ?? 0) > 0, `fault kind ${k} was never applied`);
  assert.ok(summary.passed >= summary.runs * 0.95, 'at least 95% of seeds pass outright');
}
