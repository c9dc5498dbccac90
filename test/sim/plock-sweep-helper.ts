import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import type { PackerFaults } from '../../src/pg/internal-faults.js';
import { runSimulation } from '../../src/sim/run.js';
import type { PlockInvariants } from '../../src/sim/services/plock-invariants.js';
import { PLOCK_CHURN, plockChurnRun, plockOwnershipOfSeed } from '../../src/sim/services/plock-scenario.js';
import type { FailedSeed } from '../../src/sim/sweep.js';

/** pg's 2008 fault (test/pg/mutant.test.ts): a trailing empty piece marks a full frame's message as continued. */
export const PG_2008_MUTANT: PackerFaults = { moreFollowsByPiecePosition: true };

export interface PlockSweepFigures {
  runs: number;
  failed: FailedSeed[];
  /** CPU ms of the runs (wall time on a quiet machine; the suite shares its cores). */
  cpuMs: number;
  wallMs: number;
  grants: number;
  waitGrants: number;
  stores: number;
  plockSectionsSynced: number;
  plockEmptySectionsSynced: number;
  plockEmptySectionExactFits: number;
  seedsWithoutGrants: number[];
  seedsWithoutEmptySync: number[];
  ownershipSeeds: number;
  faults: Record<string, number>;
}

/**
 * Seeds of the sweep that fail today, each tolerated only with exactly this invariant (an
 * unlisted failure, or a listed seed failing another way, fails the test).
 * Empty today. Found and fixed: `rings-pg-merged` (758) was the check's fault on wrapped rings,
 *   not pg's: node 6's ring had lost the srp.deliver of the frame before a pg.deliver, and the
 *   check paired the delivery by time with node 1's restarted incarnation's message 19 (ids
 *   restart with the process); it now pairs across incarnations only by the frame's ring
 *   (test/recorder/check.test.ts has the case).
 *
 * Seeds that failed before and pass since the plock fix that releases again, after a merge,
 * what a losing node's clients had let go while apart (they are this sweep's regression
 * cases): plock-leftover 270, 324, 334, 618, 686, 872, 902, 1098, 1120, 1210, 1232, 1288, 1338,
 * 1366, 1374, 1422, 1476, 1618, 1766, 1828, 1972; plock-stuck 728, 1799. And plock-reply 498
 * (found once the srp consensus-timeout change reshaped the runs): a request granted while
 * apart and lost in the merge was still queued in the agreed table and granted again, a second
 * reply; such waiters are now cancelled, and a grant nobody waits for is let go again.
 */
export const KNOWN_PLOCK_SWEEP_FAILURES: ReadonlyMap<number, string> = new Map();

export function replayCommand(seed: number): string {
  return `totem sim --scenario ${PLOCK_CHURN} --seed ${seed}`;
}

/** Runs the plock-churn scenario over seeds first..last (all, or up to the first failure). */
export function runPlockSweep(
  first: number,
  last: number,
  opts: { pgFaults?: PackerFaults; stopAtFirstFailure?: boolean } = {},
): PlockSweepFigures {
  const f: PlockSweepFigures = {
    runs: 0,
    failed: [],
    cpuMs: 0,
    wallMs: 0,
    grants: 0,
    waitGrants: 0,
    stores: 0,
    plockSectionsSynced: 0,
    plockEmptySectionsSynced: 0,
    plockEmptySectionExactFits: 0,
    seedsWithoutGrants: [],
    seedsWithoutEmptySync: [],
    ownershipSeeds: 0,
    faults: {},
  };
  const cpu0 = process.cpuUsage();
  const wall0 = performance.now();
  for (let seed = first; seed <= last; seed++) {
    const r = runSimulation(plockChurnRun(seed, opts.pgFaults ? { pgFaults: opts.pgFaults } : {}));
    f.runs++;
    const inv = r.world.checker as unknown as { load: PlockInvariants };
    const c = inv.load.counters();
    const grants = inv.load.log.grants;
    f.grants += grants;
    f.plockSectionsSynced += c.plockSectionsSynced ?? 0;
    f.plockEmptySectionsSynced += c.plockEmptySectionsSynced ?? 0;
    f.plockEmptySectionExactFits += c.plockEmptySectionExactFits ?? 0;
    const core = r.world.coreCounters();
    f.stores += core['plock.stores'] ?? 0;
    f.waitGrants += core['load.waitGrants'] ?? 0;
    if (grants === 0) f.seedsWithoutGrants.push(seed);
    if ((c.plockEmptySectionsSynced ?? 0) === 0) f.seedsWithoutEmptySync.push(seed);
    if (plockOwnershipOfSeed(seed)) f.ownershipSeeds++;
    for (const [k, n] of Object.entries(r.faultCounts)) f.faults[k] = (f.faults[k] ?? 0) + n;
    if (!r.pass) {
      const v = r.violation!;
      f.failed.push({ seed, nodes: r.nodes, invariant: v.invariant, detail: v.detail });
      if (opts.stopAtFirstFailure) break;
    }
  }
  const cpu = process.cpuUsage(cpu0);
  f.cpuMs = (cpu.user + cpu.system) / 1000;
  f.wallMs = performance.now() - wall0;
  return f;
}

/** One sweep file: every seed passes; the sweep saw lock traffic and plock checkpoint syncs with empty sections. */
export function sweepPlock(t: TestContext, first: number, last: number): void {
  const f = runPlockSweep(first, last);
  assert.equal(f.runs, last - first + 1);
  const known = f.failed.filter((x) => KNOWN_PLOCK_SWEEP_FAILURES.get(x.seed) === x.invariant);
  if (known.length > 0)
    t.diagnostic(`known failures (listed): ${known.map((x) => `${x.seed} ${x.invariant}`).join(', ')}`);
  assert.deepEqual(
    f.failed
      .filter((x) => !known.includes(x))
      .map((x) => `${x.invariant} (${x.nodes} nodes): ${x.detail} [${replayCommand(x.seed)}]`),
    [],
  );
  t.diagnostic(
    `${f.runs} seeds passed in ${(f.cpuMs / 1000).toFixed(1)} s CPU (${((f.runs * 1000) / f.cpuMs).toFixed(1)} seeds/s), ${(f.wallMs / 1000).toFixed(1)} s wall; ${f.ownershipSeeds} with ownership on`,
  );
  t.diagnostic(
    `${f.grants} grants (${f.waitGrants} after waiting), ${f.stores} plock checkpoint stores, ${f.plockSectionsSynced} gfsplock sections synced (${f.plockEmptySectionsSynced} empty, ${f.plockEmptySectionExactFits} of those ending exactly at a frame's end)`,
  );
  t.diagnostic(`faults applied: ${JSON.stringify(f.faults)}`);
  // Every seed has lock traffic; most sync gfsplock checkpoints with empty sections to joiners
  // (the rest lose their late joins to partitions and crashes, or store only lock-holding sections).
  assert.deepEqual(f.seedsWithoutGrants, [], 'seeds without a single grant');
  const synced = f.runs - f.seedsWithoutEmptySync.length;
  t.diagnostic(`${synced} of ${f.runs} seeds synced empty gfsplock sections to a joiner`);
  // 82–104 of 250 per file since the consensus-timeout change in srp reshaped the runs (≥ 88 before).
  assert.ok(synced >= 0.3 * f.runs, `only ${synced} of ${f.runs} seeds synced empty gfsplock sections`);
  assert.ok(f.plockEmptySectionExactFits > 0, 'no empty gfsplock section ended exactly at a frame end');
  assert.ok(f.ownershipSeeds > 0 && f.ownershipSeeds < f.runs, 'both ownership modes ran');
  for (const k of ['crashes', 'leaves', 'restarts', 'joins', 'pauses', 'partitions', 'asymmetric'])
    assert.ok((f.faults[k] ?? 0) > 0, `fault kind ${k} was never applied`);
}
