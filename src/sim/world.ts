/**
 * The simulated cluster: N nodes, each an ordering core driven through a virtual Host, a
 * virtual clock, one event queue, the network model, the workload, and the invariant
 * checker watching every node's listener stream. Everything random comes from one seeded
 * Prng (split into independent streams), so a seed reproduces a run event for event.
 */
import type { Configuration, Guarantee, Host, NodeId, OrderedListener, RingId } from '../core/io.js';
import { BROADCAST, Guarantee as G } from '../core/io.js';
import { EV } from '../recorder/events/index.js';
import { Recorder } from '../recorder/recorder.js';
import { InvariantChecker, MAX_NODE_ID, type Violation } from './checker.js';
import { EventQueue } from './event-queue.js';
import { CLEAN_LINKS, type LinkModel, Network } from './network.js';
import { encodePayload, PAYLOAD_HEADER, peekMsgId } from './payload.js';
import { Prng } from './prng.js';
import type { SimCore, SimCoreFactory } from './sim-core.js';
import { TraceHash } from './trace-hash.js';

export interface WorkloadOptions {
  /** Messages offered per node per simulated second (0 = no workload). */
  readonly ratePerNode: number;
  readonly minSize: number;
  readonly maxSize: number;
  /** Fraction of messages sent with the safe guarantee. */
  readonly safeFraction: number;
}

export const DEFAULT_WORKLOAD: WorkloadOptions = {
  ratePerNode: 50,
  minSize: PAYLOAD_HEADER,
  maxSize: 600,
  safeFraction: 0.25,
};

export interface WorldOptions {
  readonly seed: number;
  /** Nodes 1..nodes start at the beginning. */
  readonly nodes: number;
  readonly core: SimCoreFactory;
  readonly workload?: Partial<WorkloadOptions>;
  readonly links?: Partial<LinkModel>;
  /** Slots per node recorder (a power of two). */
  readonly recorderSlots?: number;
  /** Stop with a violation after this many events (guards against a core that never idles). */
  readonly maxEvents?: number;
  /** Stop with a violation when this many events are pending at once (a packet storm). */
  readonly maxQueued?: number;
  /** Nodes start at random times in [0, startSpreadMs). */
  readonly startSpreadMs?: number;
}

/** One running process (an incarnation of a node id); a restart makes a new one. */
class SimNode implements Host, OrderedListener {
  /**
   * Armed timers. Cores re-arm some timers on every token, so a timer keeps at most one
   * entry in the event queue: re-arming it later only moves `due`, and the entry, when it
   * comes up early, re-queues itself for `due`. Moving a timer earlier queues a new entry
   * (a new generation; the old entry is then ignored).
   */
  readonly timers = new Map<number, TimerState>();
  private gen = 0;
  up = true;
  pausedUntil = 0;
  lateInputs = 0;
  core!: SimCore;

  constructor(
    readonly world: World,
    readonly id: NodeId,
    readonly incarnation: number,
    readonly recorder: Recorder,
  ) {}

  send(to: NodeId, packet: Uint8Array): void {
    if (this.up) this.world.transmit(this, to, packet);
  }

  setTimer(timer: number, delayMs: number): void {
    if (!(delayMs >= 0)) throw new RangeError(`timer ${timer}: delay ${delayMs} ms`);
    const due = this.world.now + delayMs;
    const t = this.timers.get(timer);
    if (t && t.queuedFor <= due) {
      t.due = due;
      return;
    }
    const gen = ++this.gen;
    this.timers.set(timer, { due, gen, queuedFor: due });
    this.world.queueTimer(this, timer, gen, due);
  }

  cancelTimer(timer: number): void {
    this.timers.delete(timer);
  }

  persistRingSeq(seq: number): void {
    this.world.persistedRingSeq.set(this.id, seq);
  }

  deliver(sender: NodeId, payload: Uint8Array, guarantee: Guarantee, ringId: RingId, seq: number): void {
    this.world.onDeliver(this, sender, payload, guarantee, ringId, seq);
  }

  configurationChange(conf: Configuration): void {
    this.world.onConfiguration(this, conf);
  }

  tokenVisit(): void {}
}

interface TimerState {
  /** When the timer expires. */
  due: number;
  /** The generation of its live queue entry. */
  readonly gen: number;
  /** The time its live queue entry is queued for (<= due). */
  queuedFor: number;
}

const NO_IDS: number[] = [];

class Datagram {
  constructor(
    readonly from: NodeId,
    readonly bytes: Uint8Array,
    readonly broadcast: boolean,
    /** Ids of the workload messages it carries. */
    readonly ids: readonly number[],
  ) {}
}

enum Kind {
  Packet = 0,
  Timer = 1,
  Action = 2,
}

type SimEvent =
  | { readonly k: Kind.Packet; readonly to: NodeId; readonly dg: Datagram }
  | { readonly k: Kind.Timer; readonly node: SimNode; readonly timer: number; readonly gen: number }
  | { readonly k: Kind.Action; readonly fn: () => void };

/** Decides the fate of individual datagrams beyond the link model (used by scenarios). */
export type PacketFilter = (
  from: NodeId,
  to: NodeId,
  packet: Uint8Array,
  now: number,
) => 'pass' | 'drop' | number;

export class World {
  readonly seed: number;
  readonly core: SimCoreFactory;
  readonly checker: InvariantChecker;
  readonly trace = new TraceHash();
  readonly network: Network;
  readonly persistedRingSeq = new Map<NodeId, number>();
  /** The ring of every node id's latest incarnation. */
  readonly recorders = new Map<NodeId, Recorder>();
  /** Every incarnation's ring, in start order (one ring per process, as on a real host). */
  readonly rings: { readonly node: NodeId; readonly incarnation: number; readonly recorder: Recorder }[] = [];
  /** The latest incarnation of every node id ever started. */
  private readonly procs = new Map<NodeId, SimNode>();
  private readonly queue = new EventQueue<SimEvent>();
  private readonly netPrng: Prng;
  private readonly workPrng: Prng;
  /** A stream for fault schedules and scenarios. */
  readonly faultPrng: Prng;
  private readonly workload: WorkloadOptions;
  private readonly recorderSlots: number;
  private readonly maxEvents: number;
  private readonly maxQueued: number;
  private readonly delays: number[] = [0, 0];
  private nextMsgId = 1;
  private workloadUntil = Number.POSITIVE_INFINITY;
  packetFilter: PacketFilter | undefined;
  private readonly stoppedCounters: Record<string, number> = {};
  /** Things scenarios count (e.g. joins that reached a node in COMMIT). */
  readonly scenarioCounts: Record<string, number> = {};
  now = 0;
  events = 0;
  stopped = false;
  private failure: Violation | undefined;
  readonly counts = { crashes: 0, leaves: 0, restarts: 0, joins: 0, pauses: 0, partitions: 0, asymmetric: 0 };
  offered = 0;
  accepted = 0;
  /** When any node last delivered a configuration / a message (how long settling took). */
  lastConfigurationAt = 0;
  lastDeliveryAt = 0;

  constructor(opts: WorldOptions) {
    this.seed = opts.seed >>> 0;
    this.core = opts.core;
    this.checker = opts.core.makeChecker?.() ?? new InvariantChecker();
    const root = new Prng(this.seed);
    this.netPrng = root.fork();
    this.workPrng = root.fork();
    this.faultPrng = root.fork();
    const startPrng = root.fork();
    this.network = new Network(this.netPrng, { ...CLEAN_LINKS, ...opts.links });
    this.workload = { ...DEFAULT_WORKLOAD, ...opts.workload };
    this.recorderSlots = opts.recorderSlots ?? 16384;
    this.maxEvents = opts.maxEvents ?? 20_000_000;
    this.maxQueued = opts.maxQueued ?? 200_000;
    if (opts.nodes < 1 || opts.nodes > MAX_NODE_ID) throw new RangeError(`nodes must be 1..${MAX_NODE_ID}`);
    const spread = opts.startSpreadMs ?? 20;
    for (let id = 1; id <= opts.nodes; id++) {
      const at = spread > 0 ? startPrng.float() * spread : 0;
      this.at(at, () => this.startNode(id));
    }
  }

  // ---- scheduling -------------------------------------------------------------------

  /** Runs `fn` at simulated time `time` (ms). */
  at(time: number, fn: () => void): void {
    this.queue.push(Math.max(time, this.now), { k: Kind.Action, fn });
  }

  after(delayMs: number, fn: () => void): void {
    this.at(this.now + delayMs, fn);
  }

  queueTimer(node: SimNode, timer: number, gen: number, at: number): void {
    this.queue.push(at, { k: Kind.Timer, node, timer, gen });
  }

  /** Processes events up to and including time `until`, unless stopped earlier. */
  runUntil(until: number): void {
    const q = this.queue;
    while (!this.stopped && q.peekTime() <= until) {
      const item = q.pop()!;
      this.now = item.time;
      if (++this.events > this.maxEvents || q.size > this.maxQueued) {
        const detail =
          q.size > this.maxQueued
            ? `${q.size} events pending at once: a packet or timer storm`
            : `event budget of ${this.maxEvents} exhausted`;
        this.violate({ invariant: 'storm', node: undefined, time: this.now, detail });
        break;
      }
      this.dispatch(item.event);
    }
    if (!this.stopped && this.now < until) this.now = until;
  }

  private dispatch(ev: SimEvent): void {
    switch (ev.k) {
      case Kind.Packet: {
        const node = this.procs.get(ev.to);
        if (!node?.up) return;
        if (this.now < node.pausedUntil) {
          node.lateInputs++;
          this.queue.push(node.pausedUntil, ev);
          return;
        }
        const dg = ev.dg;
        for (const id of dg.ids) this.checker.received(ev.to, id);
        // Each receiver gets its own copy, as from a socket: a core may keep or reuse it.
        this.inputPacket(node, dg.from, dg.bytes.slice());
        return;
      }
      case Kind.Timer: {
        const node = ev.node;
        const t = node.timers.get(ev.timer);
        if (!node.up || t === undefined || t.gen !== ev.gen) return;
        const at = Math.max(t.due, node.pausedUntil);
        if (this.now < at) {
          if (this.now < node.pausedUntil) node.lateInputs++;
          t.queuedFor = at;
          this.queue.push(at, ev);
          return;
        }
        node.timers.delete(ev.timer);
        this.inputTimer(node, ev.timer);
        return;
      }
      case Kind.Action:
        ev.fn();
        return;
    }
  }

  private inputPacket(node: SimNode, from: NodeId, bytes: Uint8Array): void {
    node.recorder.now = this.now;
    this.checker.setTime(this.now);
    try {
      node.core.receive(this.now, from, bytes);
    } catch (err) {
      this.coreThrew(node, err);
      return;
    }
    const v = this.checker.violation;
    if (v) this.violate(v);
  }

  private inputTimer(node: SimNode, timer: number): void {
    node.recorder.now = this.now;
    this.checker.setTime(this.now);
    try {
      node.core.timerExpired(this.now, timer);
    } catch (err) {
      this.coreThrew(node, err);
      return;
    }
    const v = this.checker.violation;
    if (v) this.violate(v);
  }

  private coreThrew(node: SimNode, err: unknown): void {
    const detail = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    this.violate({ invariant: 'core-error', node: node.id, time: this.now, detail });
  }

  /** Hands one input to a node's core, with its recorder and the checker set to now. */
  private input(node: SimNode, fn: () => void): void {
    node.recorder.setTime(this.now);
    this.checker.setTime(this.now);
    try {
      fn();
    } catch (err) {
      this.coreThrew(node, err);
      return;
    }
    const v = this.checker.violation;
    if (v) this.violate(v);
  }

  private violate(v: Violation): void {
    if (this.failure) return;
    this.failure = v;
    this.stopped = true;
    for (const [id, rec] of this.recorders) {
      if (v.node !== undefined && v.node !== id) continue;
      rec.setTime(this.now);
      rec.rec(EV.SIM_VIOLATION, rec.intern(v.invariant), rec.intern(v.detail.slice(0, 200)));
    }
  }

  get violation(): Violation | undefined {
    return this.failure;
  }

  // ---- network ----------------------------------------------------------------------

  transmit(node: SimNode, to: NodeId, packet: Uint8Array): void {
    const bytes = packet.slice();
    const info = this.core.inspect(bytes);
    if (info.error !== undefined) {
      const detail = `node ${node.id} sent ${bytes.length} bytes that do not decode: ${info.error}`;
      this.violate({ invariant: 'wire-decodable', node: node.id, time: this.now, detail });
      return;
    }
    let ids: number[] = NO_IDS;
    for (const p of info.payloads) {
      const id = peekMsgId(p);
      if (id >= 0) (ids === NO_IDS ? (ids = []) : ids).push(id);
    }
    const dg = new Datagram(node.id, bytes, to === BROADCAST, ids);
    if (to === BROADCAST) {
      for (const id of this.procs.keys()) if (id !== node.id) this.route(node, id, dg);
    } else if (to !== node.id) {
      this.route(node, to, dg);
    }
  }

  private route(node: SimNode, to: NodeId, dg: Datagram): void {
    let extra = 0;
    if (this.packetFilter) {
      const verdict = this.packetFilter(node.id, to, dg.bytes, this.now);
      if (verdict === 'drop') {
        node.recorder.rec(EV.SIM_NET_DROP, to, dg.bytes.length);
        return;
      }
      if (typeof verdict === 'number') extra = verdict;
    }
    const copies = this.network.plan(node.id, to, dg.broadcast, dg.bytes.length, this.delays);
    if (copies === 0) node.recorder.rec(EV.SIM_NET_DROP, to, dg.bytes.length);
    for (let i = 0; i < copies; i++)
      this.queue.push(this.now + this.delays[i]! + extra, { k: Kind.Packet, to, dg });
  }

  // ---- processes --------------------------------------------------------------------

  /** Starts (or restarts) a node id as a new process. */
  startNode(id: NodeId): void {
    const prev = this.procs.get(id);
    if (prev?.up) throw new Error(`node ${id} is already running`);
    if (this.stopped) return;
    const incarnation = (prev?.incarnation ?? 0) + 1;
    const rec = new Recorder({
      slots: this.recorderSlots,
      nodeId: id,
      pid: id,
      virtualClock: true,
      // Opens at the process start: `fplay check` tells incarnations apart by their first record.
      anchor: { driverMs: this.now, monoNs: this.now * 1e6, wallMs: 0 },
      label: `sim seed ${this.seed} node ${id}#${incarnation} core ${this.core.name}`,
    });
    this.recorders.set(id, rec);
    this.rings.push({ node: id, incarnation, recorder: rec });
    if (prev) this.counts.restarts++;
    const node = new SimNode(this, id, incarnation, rec);
    const persisted = this.persistedRingSeq.get(id);
    rec.setTime(this.now);
    rec.rec(EV.SIM_START, incarnation, persisted ?? 0, this.seed, this.procs.size);
    this.procs.set(id, node);
    this.checker.nodeStarted(id, incarnation);
    this.trace.addAll(3, this.now, id, incarnation);
    this.input(node, () => {
      node.core = this.core.create({
        nodeId: id,
        host: node,
        listener: node,
        recorder: rec,
        persistedRingSeq: persisted,
        checker: this.checker,
        seed: this.seed,
        incarnation,
        workloadActive: () => !this.stopped && this.now < this.workloadUntil,
      });
      node.core.start(this.now);
    });
    this.scheduleWorkload(node);
  }

  /** Stops a process: abruptly, or after announcing a graceful leave. */
  stopNode(id: NodeId, graceful = false): void {
    const node = this.procs.get(id);
    if (!node?.up) return;
    if (graceful) {
      this.counts.leaves++;
      this.input(node, () => node.core.leave(this.now));
    } else this.counts.crashes++;
    node.recorder.setTime(this.now);
    node.recorder.rec(EV.SIM_CRASH, node.incarnation, graceful ? 1 : 0);
    this.addCounters(node.core.counters());
    node.up = false;
    node.timers.clear();
    this.checker.nodeStopped(id);
    this.trace.addAll(4, this.now, id, graceful ? 1 : 0);
  }

  /** The process stops running for `ms`: inputs wait, timers fire late. */
  pauseNode(id: NodeId, ms: number): void {
    const node = this.procs.get(id);
    if (!node?.up || this.now < node.pausedUntil) return;
    this.counts.pauses++;
    node.pausedUntil = this.now + ms;
    node.lateInputs = 0;
    node.recorder.setTime(this.now);
    node.recorder.rec(EV.SIM_PAUSE, Math.round(ms));
    this.at(node.pausedUntil, () => {
      if (node.up) {
        node.recorder.setTime(this.now);
        node.recorder.rec(EV.SIM_RESUME, node.lateInputs);
      }
    });
  }

  partition(groups: readonly (readonly NodeId[])[]): void {
    this.counts.partitions++;
    this.network.partition(groups);
    for (const [id, rec] of this.recorders) {
      rec.setTime(this.now);
      rec.rec(EV.SIM_PARTITION, this.network.componentOf(id), groups.length);
    }
    this.trace.addAll(5, this.now, ...groups.flatMap((g) => [...g, 0]));
  }

  blockLink(from: NodeId, to: NodeId): void {
    this.counts.asymmetric++;
    this.network.blockLink(from, to);
    this.recordAt(from, EV.SIM_LINK_BLOCK, from, to);
    this.recordAt(to, EV.SIM_LINK_BLOCK, from, to);
  }

  unblockLink(from: NodeId, to: NodeId): void {
    this.network.unblockLink(from, to);
    this.recordAt(from, EV.SIM_LINK_UNBLOCK, from, to);
    this.recordAt(to, EV.SIM_LINK_UNBLOCK, from, to);
  }

  healNetwork(): void {
    this.network.healAll();
    for (const rec of this.recorders.values()) {
      rec.setTime(this.now);
      rec.rec(EV.SIM_HEAL);
    }
  }

  private recordAt(id: NodeId, ev: number, a0 = 0, a1 = 0): void {
    const rec = this.recorders.get(id);
    if (!rec) return;
    rec.setTime(this.now);
    rec.rec(ev, a0, a1);
  }

  isUp(id: NodeId): boolean {
    return this.procs.get(id)?.up ?? false;
  }

  isPaused(id: NodeId): boolean {
    const node = this.procs.get(id);
    return node !== undefined && this.now < node.pausedUntil;
  }

  /** Every node id ever started, ascending. */
  knownNodes(): NodeId[] {
    return [...this.procs.keys()].sort((a, b) => a - b);
  }

  liveNodes(): NodeId[] {
    return this.knownNodes().filter((id) => this.procs.get(id)!.up);
  }

  /** The core of a running node (scenarios and tests inspect it). */
  coreOf(id: NodeId): SimCore | undefined {
    const node = this.procs.get(id);
    return node?.up ? node.core : undefined;
  }

  describeNodes(): string[] {
    return this.knownNodes().map((id) => {
      const n = this.procs.get(id)!;
      return `node ${id}#${n.incarnation} ${n.up ? n.core.describe() : 'down'}`;
    });
  }

  /** Counters of every core that ran, summed (stopped processes included). */
  coreCounters(): Record<string, number> {
    const sum = { ...this.stoppedCounters };
    for (const node of this.procs.values()) {
      if (!node.up) continue;
      for (const [k, v] of Object.entries(node.core.counters())) sum[k] = (sum[k] ?? 0) + v;
    }
    return sum;
  }

  private addCounters(c: Readonly<Record<string, number>>): void {
    for (const [k, v] of Object.entries(c)) this.stoppedCounters[k] = (this.stoppedCounters[k] ?? 0) + v;
  }

  // ---- workload ---------------------------------------------------------------------

  /** The workload stops offering messages at this time (queues then drain). */
  stopWorkloadAt(time: number): void {
    this.workloadUntil = time;
  }

  private scheduleWorkload(node: SimNode): void {
    const rate = this.workload.ratePerNode;
    if (!(rate > 0)) return;
    const mean = 1000 / rate;
    const tick = (): void => {
      if (!node.up || this.stopped || this.now >= this.workloadUntil) return;
      if (this.now >= node.pausedUntil && node.core.sendQueueRoom() > 0) this.offer(node.id);
      this.after(mean * (0.5 + this.workPrng.float()), tick);
    };
    this.after(mean * this.workPrng.float(), tick);
  }

  /**
   * Offers one workload message to a node's core. Returns the message id, or 0 when the
   * core's queue refused it.
   */
  offer(id: NodeId, guarantee?: Guarantee, size?: number): number {
    const node = this.procs.get(id);
    if (!node?.up) return 0;
    const w = this.workload;
    const maxSize = Math.max(PAYLOAD_HEADER, Math.min(w.maxSize, node.core.maxPayload));
    const len = size ?? this.workPrng.range(Math.min(w.minSize, maxSize), maxSize);
    const g = guarantee ?? (this.workPrng.chance(w.safeFraction) ? G.Safe : G.Agreed);
    const msgId = this.nextMsgId++;
    const payload = encodePayload(msgId, id, len);
    this.offered++;
    this.checker.sent(id, msgId, g);
    let ok = false;
    this.input(node, () => {
      ok = node.core.mcast(payload, g);
    });
    node.recorder.rec(EV.SIM_APP_SEND, msgId, len, g, ok ? 1 : 0);
    if (ok) {
      this.accepted++;
      this.trace.addAll(6, this.now, id, msgId, len, g);
    } else this.checker.withdrawn(id, msgId);
    return ok ? msgId : 0;
  }

  // ---- listener streams -------------------------------------------------------------

  onDeliver(
    node: SimNode,
    sender: NodeId,
    payload: Uint8Array,
    g: Guarantee,
    ring: RingId,
    seq: number,
  ): void {
    this.lastDeliveryAt = this.now;
    this.checker.delivered(node.id, sender, payload, g, ring, seq);
    this.trace.addAll(1, this.now, node.id, peekMsgId(payload), ring.rep, ring.seq, seq);
  }

  onConfiguration(node: SimNode, conf: Configuration): void {
    this.lastConfigurationAt = this.now;
    this.checker.configurationChange(node.id, conf);
    const h = this.trace;
    h.addAll(2, this.now, node.id, conf.kind === 'regular' ? 1 : 0, conf.ringId.rep, conf.ringId.seq);
    for (const m of conf.members) h.add(m);
  }

  /** The end-of-run checks (see InvariantChecker.finish). */
  finish(settled: boolean): Violation | undefined {
    if (this.failure) return this.failure;
    this.checker.setTime(this.now);
    const v = this.checker.finish(this.liveNodes(), settled);
    if (v) this.violate(v);
    return this.failure;
  }
}
