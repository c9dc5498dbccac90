import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { ALL_FAULTS, formatFaults } from '../../src/sim/faults.js';
import type { ServicesChecker } from '../../src/sim/services/services-checker.js';
import { servicesCoreFactory } from '../../src/sim/services/services-core.js';
import { type FailedSeed, runSweep } from '../../src/sim/sweep.js';
import type { KnownFailure } from './known-defects.js';

/**
 * The services sweep's shape: 1 s of faults, then 3 s fault-free (the load goes on for the
 * first 0.75 s of it). The end-of-run ring check (`fplay check`) is left to the other sweeps
 * and to the scenario tests: it would cost a third more here.
 */
export const SERVICES_SWEEP = { durationMs: 1000, settleMs: 3000, slots: 1024 } as const;

/**
 * Failures of layers below the services that this sweep finds and that are not the
 * simulator's to fix (judged like known-defects.ts: seed, node count and invariant exactly).
 * Empty: the five seeds once listed (409, 414, 1365, 1403, 1519: srp cycling through GATHER in
 * the settling period, failed sets never agreeing) were stale joins acted on in GATHER, fixed
 * in srp (see the state test on stale joins). Add an entry only with its seed, node count and
 * invariant exactly, and remove it once the layer is fixed.
 */
export const KNOWN_SERVICES_FAILURES: readonly KnownFailure[] = [];

function known(f: FailedSeed): KnownFailure | undefined {
  return KNOWN_SERVICES_FAILURES.find(
    (k) => k.seed === f.seed && k.nodes === f.nodes && k.invariant === f.invariant,
  );
}

/** Runs seeds first..last of the services core with the ckpt load, 3..7 nodes, every fault kind. */
export function sweepServices(t: TestContext, first: number, last: number): void {
  const counts: Record<string, number> = {};
  const totals: Record<string, number> = {};
  const noRound: number[] = [];
  const summary = runSweep({
    seeds: [first, last],
    nodes: [3, 7],
    core: servicesCoreFactory(),
    durationMs: SERVICES_SWEEP.durationMs,
    settleMs: SERVICES_SWEEP.settleMs,
    faults: ALL_FAULTS,
    keepGoing: true,
    extra: { recorderSlots: SERVICES_SWEEP.slots, checkRings: false },
    onResult: (r) => {
      for (const [k, n] of Object.entries(r.faultCounts)) counts[k] = (counts[k] ?? 0) + n;
      const checker = r.world.checker as ServicesChecker;
      if (checker.rounds.completed === 0) noRound.push(r.seed);
      totals.rounds = (totals.rounds ?? 0) + checker.rounds.completed;
      totals.aborted = (totals.aborted ?? 0) + checker.rounds.aborted;
      for (const [k, n] of Object.entries(checker.load.counters())) totals[k] = (totals[k] ?? 0) + n;
      const c = r.world.coreCounters();
      for (const k of ['load.ackedWrites', 'load.requests', 'ckpt.mergeConflicts', 'ckpt.expiriesSent'])
        totals[k] = (totals[k] ?? 0) + (c[k] ?? 0);
    },
  });
  assert.equal(summary.runs, last - first + 1);
  const replay = (seed: number, nodes: number) =>
    `totem sim --core services --load ckpt --seed ${seed} --nodes ${nodes} --duration 1s --settle 3s --faults ${formatFaults(ALL_FAULTS)}`;
  assert.deepEqual(
    summary.failed
      .filter((f) => !known(f))
      .map((f) => `${f.invariant}: ${f.detail} [${replay(f.seed, f.nodes)}]`),
    [],
    'violations that are not known failures (KNOWN_SERVICES_FAILURES)',
  );
  assert.deepEqual(noRound, [], 'seeds that never completed a sync round');
  t.diagnostic(
    `${summary.passed}/${summary.runs} seeds passed; known failures: ${summary.failed.map((f) => f.seed).join(', ') || 'none'}; simulated ${(summary.simMs / 1000).toFixed(0)} s in ${(summary.wallMs / 1000).toFixed(1)} s`,
  );
  t.diagnostic(`faults applied: ${JSON.stringify(counts)}`);
  t.diagnostic(`sync and ckpt: ${JSON.stringify(totals)}`);
  for (const k of ['crashes', 'leaves', 'restarts', 'joins', 'pauses', 'partitions', 'asymmetric'])
    assert.ok((counts[k] ?? 0) > 0, `fault kind ${k} was never applied`);
  assert.ok((totals.roundsChecked ?? 0) > summary.runs && (totals.trackedSectionsChecked ?? 0) > 0);
  assert.ok((totals.mergedRounds ?? 0) > 0, 'rounds merged the databases of several senders');
}
