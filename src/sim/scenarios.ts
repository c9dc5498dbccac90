/**
 * Named scenarios: each one aims faults at a pitfall Totem implementations met in the field
 * (protocol notes §1.9, §6.3). They run like any seed (`totem sim --scenario NAME --seed N`),
 * with the same checkers and the same settling period at the end.
 */
import type { NodeId } from '../core/io.js';
import { parseFaults } from './faults.js';
import type { SimRunOptions } from './run.js';
import type { CoreMaker, PacketKind, SimCoreFactory } from './sim-core.js';
import { srpPgCoreFactory } from './srp-pg-core.js';
import type { PacketFilter, World } from './world.js';

export interface Scenario {
  readonly name: string;
  readonly summary: string;
  /** The run's options; the caller adds nothing but may override the seed. */
  build(seed: number, makeCore: CoreMaker): SimRunOptions;
}

function kindOf(core: SimCoreFactory, packet: Uint8Array): PacketKind {
  return core.classify?.(packet) ?? 'other';
}

/** Chains packet filters: the first verdict other than 'pass' wins. */
export function addFilter(world: World, f: PacketFilter): void {
  const prev = world.packetFilter;
  world.packetFilter = prev
    ? (from, to, p, now) => {
        const v = prev(from, to, p, now);
        return v === 'pass' ? f(from, to, p, now) : v;
      }
    : f;
}

/** Offers up to `count` messages from a node, as many as its send queue takes. */
export function flood(world: World, node: NodeId, count: number): number {
  let sent = 0;
  while (sent < count && world.isUp(node) && (world.coreOf(node)?.sendQueueRoom() ?? 0) > 0) {
    if (world.offer(node) === 0) break;
    sent++;
  }
  return sent;
}

/**
 * The first multicast a node sends after `at` starts a silence: none of its multicasts and
 * tokens reach anyone for `ms` (its joins and commit tokens do, and it still hears the
 * others). The messages it sent on that last token visit then exist only at the node
 * itself, the ring is lost, and all nodes form the next ring together: the end-of-ring case
 * the 2008 received_flg fix is about (local aru == high everywhere but one node).
 */
function muteAfterFirstMcast(world: World, core: SimCoreFactory, node: NodeId, at: number, ms: number): void {
  let muteUntil = -1;
  addFilter(world, (from, _to, packet, now) => {
    if (from !== node || now < at) return 'pass';
    const kind = kindOf(core, packet);
    if (muteUntil < 0) {
      if (kind !== 'mcast') return 'pass';
      muteUntil = now + ms;
    }
    return now < muteUntil && (kind === 'mcast' || kind === 'token') ? 'drop' : 'pass';
  });
}

function floodAll(world: World, nodes: readonly NodeId[], count: number): void {
  for (const n of nodes) flood(world, n, count);
}

function startAll(world: World, nodes: readonly NodeId[]): void {
  for (const n of nodes) if (!world.isUp(n)) world.startNode(n);
}

const receivedFlg: Scenario = {
  name: 'received-flg',
  summary: 'the last messages of a ring reach only their sender (end-of-ring recovery, received_flg)',
  build(seed, makeCore) {
    const core = makeCore();
    const t = core.timing.tokenMs;
    return {
      seed,
      nodes: 4,
      core,
      durationMs: 8 * t,
      workload: { ratePerNode: 200 },
      setup(world) {
        muteAfterFirstMcast(world, core, 1, 2 * t, 1.5 * t);
        muteAfterFirstMcast(world, core, 3, 5 * t, 1.5 * t);
      },
    };
  },
};

const retransmittedToken: Scenario = {
  name: 'retransmitted-token',
  summary: 'tokens lost, and late copies arriving after the retransmitted token (token_seq filtering)',
  build(seed, makeCore) {
    const core = makeCore();
    const t = core.timing.tokenMs;
    const rtx = core.timing.tokenRetransmitMs;
    const end = 10 * t;
    return {
      seed,
      nodes: 5,
      core,
      durationMs: end,
      workload: { ratePerNode: 100 },
      setup(world) {
        const p = world.faultPrng.fork();
        addFilter(world, (_from, _to, packet, now) => {
          if (now >= end || kindOf(core, packet) !== 'token') return 'pass';
          const r = p.float();
          if (r < 0.1) return 'drop';
          if (r < 0.25) return rtx * (0.5 + 1.5 * p.float());
          return 'pass';
        });
      },
    };
  },
};

const joinDuringCommit: Scenario = {
  name: 'join-in-commit',
  summary: 'new and restarted nodes send joins while the others are in COMMIT',
  build(seed, makeCore) {
    const core = makeCore();
    const t = core.timing.tokenMs;
    return {
      seed,
      nodes: 4,
      core,
      durationMs: 10 * t,
      workload: { ratePerNode: 80 },
      setup(world) {
        const triggers = [
          { at: 2 * t, act: () => startAll(world, [5, 4]) },
          { at: 6 * t, act: () => startAll(world, [6, 2]) },
        ];
        world.at(2 * t - 1, () => world.stopNode(4));
        world.at(6 * t - 1, () => world.stopNode(2, true));
        let next = 0;
        addFilter(world, (_from, to, packet, now) => {
          const kind = kindOf(core, packet);
          const trig = triggers[next];
          if (trig && now >= trig.at && kind === 'commit') {
            next++;
            world.after(0.05, trig.act);
          }
          if (kind === 'join' && world.coreOf(to)?.phase() === 'COMMIT')
            world.scenarioCounts.joinsToCommit = (world.scenarioCounts.joinsToCommit ?? 0) + 1;
          return 'pass';
        });
      },
    };
  },
};

const recoveryFlood: Scenario = {
  name: 'recovery-flood',
  summary: 'thousands of old-ring messages to re-originate in RECOVERY, with full send queues',
  build(seed, makeCore) {
    const core = makeCore();
    const t = core.timing.tokenMs;
    return {
      seed,
      nodes: 4,
      core,
      durationMs: 8 * t,
      workload: { ratePerNode: 50, maxSize: 200 },
      setup(world) {
        const start = t;
        const stop = start + 1.5 * t;
        // Node 4 misses every multicast for a while (tokens still reach it).
        addFilter(world, (_from, to, packet, now) =>
          to === 4 && now >= start && now < stop && kindOf(core, packet) === 'mcast' ? 'drop' : 'pass',
        );
        for (let k = 0; k < 10; k++) world.at(start + (k * t) / 8, () => floodAll(world, [1, 2, 3], 400));
        world.at(stop, () => world.stopNode(3));
        // More traffic queued while the new ring recovers.
        for (let k = 1; k <= 6; k++) world.at(stop + (k * t) / 4, () => floodAll(world, [1, 2, 4], 300));
        world.at(stop + 3 * t, () => world.startNode(3));
      },
    };
  },
};

const rtrBeyondQueue: Scenario = {
  name: 'rtr-beyond-queue',
  summary: 'multicast to one node broken for long: retransmit ranges beyond a small sort queue',
  build(seed, makeCore) {
    const core = makeCore({ queueSize: 128, windowSize: 20, maxMessages: 10 });
    const t = core.timing.tokenMs;
    return {
      seed,
      nodes: 3,
      core,
      durationMs: 6 * t,
      workload: { ratePerNode: 400, maxSize: 100 },
      setup(world) {
        addFilter(world, (_from, to, packet, now) =>
          to === 3 && now >= t && now < 4 * t && kindOf(core, packet) === 'mcast' ? 'drop' : 'pass',
        );
      },
    };
  },
};

const unstableMembership: Scenario = {
  name: 'unstable-membership',
  summary: 'crashes, pauses and partitions each time a ring is being formed or recovered',
  build(seed, makeCore) {
    const core = makeCore();
    const t = core.timing.tokenMs;
    const end = 14 * t;
    return {
      seed,
      nodes: 5,
      core,
      durationMs: end,
      workload: { ratePerNode: 100 },
      setup(world) {
        const p = world.faultPrng.fork();
        let quietUntil = 0;
        addFilter(world, (_from, _to, packet, now) => {
          if (now >= end - 2 * t || now < quietUntil || kindOf(core, packet) !== 'commit') return 'pass';
          quietUntil = now + 0.4 * t;
          const live = world.liveNodes();
          const victim = live[p.int(live.length)]!;
          const r = p.float();
          world.after(0.01 + p.float() * 5, () => {
            if (r < 0.35 && live.length > 2) {
              world.stopNode(victim, r < 0.1);
              world.after(t * (0.3 + p.float()), () => world.startNode(victim));
            } else if (r < 0.7) {
              world.pauseNode(victim, t * (0.5 + p.float()));
            } else {
              const known = world.knownNodes();
              const cut = 1 + p.int(known.length - 1);
              world.partition([known.slice(0, cut), known.slice(cut)]);
              world.after(t * (0.3 + p.float()), () => world.network.healPartition());
            }
          });
          return 'pass';
        });
      },
    };
  },
};

const pauseStorm: Scenario = {
  name: 'pause-storm',
  summary: 'processes stop for half a token timeout to twice it, one after another',
  build(seed, makeCore) {
    const core = makeCore();
    const t = core.timing.tokenMs;
    return {
      seed,
      nodes: 4,
      core,
      durationMs: 12 * t,
      setup(world) {
        const p = world.faultPrng.fork();
        for (let at = t; at < 11 * t; at += t * (0.6 + p.float())) {
          const node = 1 + p.int(4);
          const ms = t * (0.5 + 1.5 * p.float());
          world.at(at, () => world.pauseNode(node, ms));
        }
      },
    };
  },
};

const asymmetricRing: Scenario = {
  name: 'asymmetric-ring',
  summary: 'one node cannot hear another (one way) for a long time, then the link heals',
  build(seed, makeCore) {
    const core = makeCore();
    const t = core.timing.tokenMs;
    return {
      seed,
      nodes: 4,
      core,
      durationMs: 10 * t,
      setup(world) {
        world.at(t, () => world.blockLink(1, 3));
        world.at(3 * t, () => world.blockLink(4, 2));
        world.at(8 * t, () => {
          world.unblockLink(1, 3);
          world.unblockLink(4, 2);
        });
      },
    };
  },
};

const mcastBehindToken: Scenario = {
  name: 'mcast-behind-token',
  summary: 'multicast held back behind the unicast token, with loss (miss_count, retransmit storms)',
  build(seed, makeCore) {
    const core = makeCore();
    return {
      seed,
      nodes: 5,
      core,
      durationMs: 8 * core.timing.tokenMs,
      faults: parseFaults('mdelay=0.4,loss=0.02,reorder=0.1'),
      workload: { ratePerNode: 150 },
    };
  },
};

const seqRollover: Scenario = {
  name: 'seq-rollover',
  summary: 'every ring starts its sequence numbers just below 2^32, under faults',
  build(seed, makeCore) {
    const core = makeCore({ startSeq: 0xfffffe00 });
    return {
      seed,
      nodes: 4,
      core,
      durationMs: 8 * core.timing.tokenMs,
      faults: parseFaults('loss=0.03,dup,reorder,crash,pause'),
      workload: { ratePerNode: 200 },
    };
  },
};

/**
 * The 2008 pg bug's shape (RHBZ 441413): application messages whose bytes end exactly at a
 * frame's end (±3), cut into pieces with empty pieces after the last byte, empty and tiny
 * messages between them, while members crash, leave and rejoin. Always the srp+pg core.
 */
const pgFrameBoundary: Scenario = {
  name: 'pg-frame-boundary',
  summary: 'pg messages ending at frame ends followed by empty pieces, while members join and leave (srp+pg)',
  build(seed) {
    const core = srpPgCoreFactory({ shapes: { empty: 0.2, tiny: 0.05, boundary: 0.7, large: 0.02 } });
    const durationMs = 3000;
    return {
      seed,
      nodes: 5,
      core,
      durationMs,
      faults: parseFaults('loss=0.01,reorder'),
      workload: { ratePerNode: 120 },
      setup(world) {
        const prng = world.faultPrng;
        for (let at = 300; at < durationMs - 400; at += 250 + prng.float() * 200) {
          world.at(at, () => {
            const live = world.liveNodes();
            if (live.length <= 3) return;
            const id = prng.pick(live);
            world.stopNode(id, prng.chance(0.5));
            world.after(150 + prng.float() * 300, () => world.startNode(id));
          });
        }
      },
    };
  },
};

export const SCENARIOS: readonly Scenario[] = [
  receivedFlg,
  retransmittedToken,
  joinDuringCommit,
  recoveryFlood,
  rtrBeyondQueue,
  unstableMembership,
  pauseStorm,
  asymmetricRing,
  mcastBehindToken,
  seqRollover,
  pgFrameBoundary,
];

export function scenarioByName(name: string): Scenario | undefined {
  return SCENARIOS.find((s) => s.name === name);
}
