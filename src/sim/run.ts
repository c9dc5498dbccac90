/**
 * One simulation run: a faulty period (random faults from the spec, workload on), then a
 * fault-free settling period after which the cluster must have agreed and drained.
 */
import { performance } from 'node:perf_hooks';
import type { NodeId } from '../core/io.js';
import { EV } from '../recorder/events/index.js';
import type { Violation } from './checker.js';
import { type FaultSpec, faultyLinks, formatFaults, NO_FAULTS, scheduleRandomFaults } from './faults.js';
import { CLEAN_LINKS, type LinkModel } from './network.js';
import { checkWorldRings } from './ring-check.js';
import type { SimCoreFactory } from './sim-core.js';
import { type WorkloadOptions, World } from './world.js';

export interface SimRunOptions {
  readonly seed: number;
  readonly nodes: number;
  readonly core: SimCoreFactory;
  /** Length of the faulty period, ms of simulated time. */
  readonly durationMs: number;
  readonly faults?: FaultSpec;
  /** Fault-free period at the end (default: the core's settle bound). */
  readonly settleMs?: number;
  /** The workload keeps offering messages this long into the settling period (default settle/4). */
  readonly workloadTailMs?: number;
  readonly workload?: Partial<WorkloadOptions>;
  /** The fault-free link model (delay and jitter). */
  readonly links?: Partial<LinkModel>;
  readonly recorderSlots?: number;
  /** Run `fplay check` over every process's ring at the end (default: on). */
  readonly checkRings?: boolean;
  /** Extra setup (scenarios schedule their own faults here). */
  readonly setup?: (world: World) => void;
}

export interface SimRunResult {
  readonly pass: boolean;
  readonly violation: Violation | undefined;
  readonly seed: number;
  readonly nodes: number;
  readonly core: string;
  readonly faults: string;
  readonly durationMs: number;
  readonly settleMs: number;
  readonly traceHash: string;
  readonly events: number;
  readonly simMs: number;
  readonly wallMs: number;
  readonly offered: number;
  readonly accepted: number;
  readonly deliveries: number;
  readonly configurations: number;
  readonly packets: { readonly sent: number; readonly dropped: number; readonly duplicated: number };
  readonly faultCounts: Readonly<Record<string, number>>;
  readonly liveAtEnd: readonly NodeId[];
  /** Simulated ms from the end of faults to the last configuration change / delivery. */
  readonly settledAfterMs: { readonly configuration: number; readonly delivery: number };
  /** Findings of the end-of-run ring check (0 when it did not run). */
  readonly ringFindings: number;
  readonly world: World;
}

export function runSimulation(opts: SimRunOptions): SimRunResult {
  const started = performance.now();
  const faults = opts.faults ?? NO_FAULTS;
  const timing = opts.core.timing;
  const settleMs = opts.settleMs ?? timing.settleMs;
  const baseLinks: LinkModel = { ...CLEAN_LINKS, ...opts.links };
  const world = new World({
    seed: opts.seed,
    nodes: opts.nodes,
    core: opts.core,
    workload: opts.workload,
    links: { ...baseLinks, ...faultyLinks(faults, timing.tokenMs) },
    recorderSlots: opts.recorderSlots,
  });
  scheduleRandomFaults(world, faults, timing.tokenMs, opts.durationMs);
  opts.setup?.(world);
  world.stopWorkloadAt(opts.durationMs + (opts.workloadTailMs ?? settleMs / 4));
  world.at(opts.durationMs, () => {
    world.network.links = baseLinks;
    world.healNetwork();
    for (const rec of world.recorders.values()) rec.rec(EV.SIM_SETTLE, settleMs);
  });
  const end = opts.durationMs + settleMs;
  world.runUntil(end);
  let violation = world.finish(true);
  let ringFindings = 0;
  if (violation === undefined && opts.checkRings !== false) {
    const rings = checkWorldRings(world);
    ringFindings = rings.report.findings.length;
    violation = rings.violation;
  }
  const c = world.checker;
  return {
    pass: violation === undefined,
    violation,
    seed: opts.seed,
    nodes: opts.nodes,
    core: opts.core.name,
    faults: formatFaults(faults),
    durationMs: opts.durationMs,
    settleMs,
    traceHash: world.trace.hex(),
    events: world.events,
    simMs: world.now,
    wallMs: performance.now() - started,
    offered: world.offered,
    accepted: world.accepted,
    deliveries: c.deliveries,
    configurations: c.configurations,
    packets: {
      sent: world.network.sent,
      dropped: world.network.dropped,
      duplicated: world.network.duplicated,
    },
    faultCounts: { ...world.counts },
    liveAtEnd: world.liveNodes(),
    settledAfterMs: {
      configuration: Math.max(0, world.lastConfigurationAt - opts.durationMs),
      delivery: Math.max(0, world.lastDeliveryAt - opts.durationMs),
    },
    ringFindings,
    world,
  };
}
