import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { ALL_FAULTS, formatFaults } from '../../src/sim/faults.js';
import { srpPgCoreFactory } from '../../src/sim/srp-pg-core.js';
import { runSweep } from '../../src/sim/sweep.js';

export const PG_SWEEP_RATE = 25;
export const PG_SWEEP_SLOTS = 8192;

/** Runs seeds first..last of the srp+pg core over 3..7 nodes with every fault kind. */
export function sweepSrpPg(t: TestContext, first: number, last: number): void {
  const counts: Record<string, number> = {};
  let shortDeliveries = 0;
  let appDeliveries = 0;
  let straddling = 0;
  const pg: Record<string, number> = {};
  const summary = runSweep({
    seeds: [first, last],
    nodes: [3, 7],
    core: srpPgCoreFactory(),
    durationMs: 1000,
    faults: ALL_FAULTS,
    keepGoing: true,
    extra: { recorderSlots: PG_SWEEP_SLOTS, workload: { ratePerNode: PG_SWEEP_RATE } },
    onResult: (r) => {
      for (const [k, n] of Object.entries(r.faultCounts)) counts[k] = (counts[k] ?? 0) + n;
      const c = r.world.checker as unknown as {
        shortDeliveries: number;
        appDeliveries: number;
        straddlingMessages: number;
      };
      shortDeliveries += c.shortDeliveries;
      appDeliveries += c.appDeliveries;
      straddling += c.straddlingMessages;
      for (const [k, n] of Object.entries(r.world.coreCounters())) pg[k] = (pg[k] ?? 0) + n;
    },
  });
  assert.equal(summary.runs, last - first + 1);
  const replay = (seed: number, nodes: number) =>
    `totem sim --core srp-pg --seed ${seed} --nodes ${nodes} --duration 1s --rate ${PG_SWEEP_RATE} --slots ${PG_SWEEP_SLOTS} --faults ${formatFaults(ALL_FAULTS)}`;
  assert.deepEqual(
    summary.failed.map((f) => `${f.invariant}: ${f.detail} [${replay(f.seed, f.nodes)}]`),
    [],
  );
  t.diagnostic(
    `${summary.passed}/${summary.runs} seeds passed; ${appDeliveries} app deliveries (${shortDeliveries} of 0..15 bytes, ${straddling} messages straddling a configuration change)`,
  );
  t.diagnostic(`faults applied: ${JSON.stringify(counts)}`);
  t.diagnostic(
    `pg: try-again ${pg.tryAgain} retried ${pg.retried} boundary-shaped ${pg.boundaryShaped} partials dropped ${pg['pg.partialsDropped']} chunks skipped ${pg['pg.chunksSkipped']} assembly errors ${pg['pg.assemblyErrors']}`,
  );
  for (const k of ['crashes', 'leaves', 'restarts', 'joins', 'pauses', 'partitions', 'asymmetric'])
    assert.ok((counts[k] ?? 0) > 0, `fault kind ${k} was never applied`);
  assert.ok(shortDeliveries > 0 && (pg.boundaryShaped ?? 0) > 0, 'the awkward shapes were exercised');
}
