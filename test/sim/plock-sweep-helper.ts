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
 * Seeds of the sweep that fail for reasons not this load's to fix (tolerated only with exactly
 * this invariant; an unlisted failure fails the test). Found after merging plock fe51718 and
 * simsvc ce680c5 (00:40 UTC, 2026-11-29): `liveness` is the ordering layer not merging every
 * live node into one ring by the end of the settling period under this churn (an srp finding,
 * like the srp-churn seeds the services sweep lists); 1565 is a plock finding (a blocking lock
 * that waits on after the run settled) for the plock service to look into.
 */
export const KNOWN_PLOCK_SWEEP_FAILURES: ReadonlyMap<number, string> = new Map([
  ...[487, 557, 609, 648, 716, 819, 844, 946, 984, 1159, 1198, 1329, 1373, 1503, 1898, 1976, 1998].map(
    (seed) => [seed, 'liveness'] as const,
  ),
  [1565, 'plock-stuck'],
]);

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
  assert.ok(synced >= 0.35 * f.runs, `only ${synced} of ${f.runs} seeds synced empty gfsplock sections`);
  assert.ok(f.plockEmptySectionExactFits > 0, 'no empty gfsplock section ended exactly at a frame end');
  assert.ok(f.ownershipSeeds > 0 && f.ownershipSeeds < f.runs, 'both ownership modes ran');
  for (const k of ['crashes', 'leaves', 'restarts', 'joins', 'pauses', 'partitions', 'asymmetric'])
    assert.ok((f.faults[k] ?? 0) > 0, `fault kind ${k} was never applied`);
}
