/**
 * Fault specifications (`loss=0.1,dup=0.01,reorder,partition,pause,crash,join`) and the
 * random fault schedule a run draws from its seed.
 */
import type { NodeId } from '../core/io.js';
import { MAX_NODE_ID } from './checker.js';
import type { LinkModel } from './network.js';
import { Prng } from './prng.js';
import type { World } from './world.js';

export interface FaultSpec {
  /** Per-datagram probabilities while faults are on. */
  readonly loss: number;
  readonly dup: number;
  readonly reorder: number;
  /** Probability that a multicast datagram is held back behind the token. */
  readonly mcastDelay: number;
  /** Discrete faults drawn over the faulty period. */
  readonly partition: boolean;
  readonly asym: boolean;
  readonly pause: boolean;
  readonly crash: boolean;
  readonly join: boolean;
}

export const NO_FAULTS: FaultSpec = {
  loss: 0,
  dup: 0,
  reorder: 0,
  mcastDelay: 0,
  partition: false,
  asym: false,
  pause: false,
  crash: false,
  join: false,
};

const DEFAULT_RATES = { loss: 0.02, dup: 0.01, reorder: 0.05, mdelay: 0.05 } as const;

export const ALL_FAULTS: FaultSpec = {
  loss: DEFAULT_RATES.loss,
  dup: DEFAULT_RATES.dup,
  reorder: DEFAULT_RATES.reorder,
  mcastDelay: DEFAULT_RATES.mdelay,
  partition: true,
  asym: true,
  pause: true,
  crash: true,
  join: true,
};

export const FAULT_WORDS = [
  'loss[=p]',
  'dup[=p]',
  'reorder[=p]',
  'mdelay[=p]',
  'partition',
  'asym',
  'pause',
  'crash',
  'join',
  'all',
  'none',
];

/** Parses a comma-separated fault list; throws a RangeError naming the bad word. */
export function parseFaults(text: string): FaultSpec {
  let spec: { -readonly [K in keyof FaultSpec]: FaultSpec[K] } = { ...NO_FAULTS };
  for (const raw of text.split(',')) {
    const word = raw.trim();
    if (word === '') continue;
    const eq = word.indexOf('=');
    const name = eq < 0 ? word : word.slice(0, eq);
    const value = eq < 0 ? undefined : Number(word.slice(eq + 1));
    if (value !== undefined && !(value >= 0 && value <= 1))
      throw new RangeError(`fault '${word}': the probability must be in [0, 1]`);
    switch (name) {
      case 'loss':
      case 'dup':
      case 'reorder':
        spec[name] = value ?? DEFAULT_RATES[name];
        break;
      case 'mdelay':
        spec.mcastDelay = value ?? DEFAULT_RATES.mdelay;
        break;
      case 'partition':
      case 'asym':
      case 'pause':
      case 'crash':
      case 'join':
        if (value !== undefined) throw new RangeError(`fault '${name}' takes no value`);
        spec[name] = true;
        break;
      case 'all':
        spec = { ...ALL_FAULTS };
        break;
      case 'none':
        spec = { ...NO_FAULTS };
        break;
      default:
        throw new RangeError(`unknown fault '${name}' (known: ${FAULT_WORDS.join(', ')})`);
    }
  }
  return spec;
}

export function formatFaults(spec: FaultSpec): string {
  const words: string[] = [];
  if (spec.loss > 0) words.push(`loss=${spec.loss}`);
  if (spec.dup > 0) words.push(`dup=${spec.dup}`);
  if (spec.reorder > 0) words.push(`reorder=${spec.reorder}`);
  if (spec.mcastDelay > 0) words.push(`mdelay=${spec.mcastDelay}`);
  for (const k of ['partition', 'asym', 'pause', 'crash', 'join'] as const) if (spec[k]) words.push(k);
  return words.length > 0 ? words.join(',') : 'none';
}

/** The link model while faults are on. */
export function faultyLinks(spec: FaultSpec, tokenMs: number): Partial<LinkModel> {
  return {
    loss: spec.loss,
    dup: spec.dup,
    reorder: spec.reorder,
    reorderMaxMs: 5,
    mcastDelay: spec.mcastDelay,
    // Held back for a good part of a token rotation, never near the token timeout.
    mcastDelayMaxMs: Math.max(2, tokenMs / 10),
  };
}

/** Most nodes a run may have (joins stop there). */
export const MAX_SIM_NODES = Math.min(MAX_NODE_ID, 12);

/**
 * Draws discrete faults at random times in [0, untilMs) and schedules them on the world.
 * Every fault ends (or is cut short) by untilMs, except a crash whose restart would come
 * later: that node stays down. Faults come one every ~2 token timeouts on average.
 */
export function scheduleRandomFaults(world: World, spec: FaultSpec, tokenMs: number, untilMs: number): void {
  const kinds: (keyof FaultSpec)[] = (['partition', 'asym', 'pause', 'crash', 'join'] as const).filter(
    (k) => spec[k],
  );
  if (kinds.length === 0) return;
  const p = world.faultPrng;
  const meanGap = 2 * tokenMs;
  let t = p.uniform(0.2, 1) * meanGap;
  while (t < untilMs) {
    const kind = p.pick(kinds);
    const at = t;
    // Each fault draws its parameters now, so the schedule does not depend on what happens.
    const r1 = p.float();
    const r2 = p.float();
    const r3 = p.float();
    const r4 = p.u32();
    world.at(at, () => applyFault(world, kind, r1, r2, r3, r4, tokenMs, untilMs));
    t += meanGap * (0.3 + 1.4 * p.float());
  }
}

function applyFault(
  world: World,
  kind: keyof FaultSpec,
  r1: number,
  r2: number,
  r3: number,
  r4: number,
  tokenMs: number,
  untilMs: number,
): void {
  const now = world.now;
  const remaining = untilMs - now;
  if (remaining <= 0) return;
  const live = world.liveNodes();
  switch (kind) {
    case 'partition': {
      const known = world.knownNodes();
      if (known.length < 2 || world.network.partitioned) return;
      const parts = known.length >= 4 && r3 < 0.3 ? 3 : 2;
      const shuffle = new Prng(r4);
      const order = [...known];
      for (let i = order.length - 1; i > 0; i--) {
        const j = shuffle.int(i + 1);
        [order[i], order[j]] = [order[j]!, order[i]!];
      }
      const groups: NodeId[][] = Array.from({ length: parts }, () => []);
      order.forEach((n, i) => {
        groups[i < parts ? i : shuffle.int(parts)]!.push(n);
      });
      for (const g of groups) g.sort((a, b) => a - b);
      world.partition(groups);
      const dur = Math.min(remaining, tokenMs * (0.5 + 3 * r1));
      world.after(dur, () => world.network.healPartition());
      return;
    }
    case 'asym': {
      const known = world.knownNodes();
      if (known.length < 2) return;
      const from = known[Math.floor(r1 * known.length)]!;
      const others = known.filter((n) => n !== from);
      const to = others[Math.floor(r2 * others.length)]!;
      world.blockLink(from, to);
      const dur = Math.min(remaining, tokenMs * (1 + 3 * r3));
      world.after(dur, () => world.unblockLink(from, to));
      return;
    }
    case 'pause': {
      if (live.length === 0) return;
      const node = live[Math.floor(r1 * live.length)]!;
      // At least half the token timeout (the corosync complaint), at most 2.5 timeouts.
      world.pauseNode(node, Math.min(remaining, tokenMs * (0.5 + 2 * r2)));
      return;
    }
    case 'crash': {
      if (live.length <= 1) return;
      const node = live[Math.floor(r1 * live.length)]!;
      world.stopNode(node, r3 < 0.3);
      const down = tokenMs * (0.3 + 3 * r2);
      if (down < remaining) world.after(down, () => world.startNode(node));
      return;
    }
    case 'join': {
      const known = world.knownNodes();
      if (known.length >= MAX_SIM_NODES) return;
      world.counts.joins++;
      world.startNode(known[known.length - 1]! + 1);
      return;
    }
    default:
      return;
  }
}
