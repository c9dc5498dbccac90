/**
 * Many seeds in a row. The node count of each seed is a function of the seed, so the one-line
 * replay command of a failing seed names everything needed to run it again.
 */
import type { FaultSpec } from './faults.js';
import { runSimulation, type SimRunOptions, type SimRunResult } from './run.js';
import type { SimCoreFactory } from './sim-core.js';

export interface SweepOptions {
  readonly seeds: readonly [number, number];
  readonly nodes: readonly [number, number];
  readonly core: SimCoreFactory;
  readonly durationMs: number;
  readonly faults: FaultSpec;
  readonly settleMs?: number;
  readonly extra?: Partial<SimRunOptions>;
  /** Stop at the first failure (default) or run every seed. */
  readonly keepGoing?: boolean;
  readonly onResult?: (r: SimRunResult, done: number, total: number) => void;
}

export interface SweepSummary {
  readonly runs: number;
  readonly passed: number;
  /** The first failing run, whole (its world holds the recorder rings). */
  readonly firstFailure: SimRunResult | undefined;
  readonly failed: readonly FailedSeed[];
  readonly simMs: number;
  readonly wallMs: number;
  readonly deliveries: number;
  readonly byInvariant: Readonly<Record<string, number>>;
}

export interface FailedSeed {
  readonly seed: number;
  readonly nodes: number;
  readonly invariant: string;
  readonly detail: string;
}

export function nodesForSeed(seed: number, range: readonly [number, number]): number {
  const [lo, hi] = range;
  return lo + (seed % (hi - lo + 1));
}

export function runSweep(opts: SweepOptions): SweepSummary {
  const [first, last] = opts.seeds;
  const total = last - first + 1;
  const failed: FailedSeed[] = [];
  let firstFailure: SimRunResult | undefined;
  const byInvariant: Record<string, number> = {};
  let runs = 0;
  let passed = 0;
  let simMs = 0;
  let wallMs = 0;
  let deliveries = 0;
  for (let seed = first; seed <= last; seed++) {
    const r = runSimulation({
      ...opts.extra,
      seed,
      nodes: nodesForSeed(seed, opts.nodes),
      core: opts.core,
      durationMs: opts.durationMs,
      faults: opts.faults,
      settleMs: opts.settleMs,
    });
    runs++;
    simMs += r.simMs;
    wallMs += r.wallMs;
    deliveries += r.deliveries;
    if (r.pass) passed++;
    else {
      firstFailure ??= r;
      const k = r.violation!.invariant;
      failed.push({ seed, nodes: r.nodes, invariant: k, detail: r.violation!.detail });
      byInvariant[k] = (byInvariant[k] ?? 0) + 1;
    }
    opts.onResult?.(r, runs, total);
    if (!r.pass && !opts.keepGoing) break;
  }
  return { runs, passed, firstFailure, failed, simMs, wallMs, deliveries, byInvariant };
}
