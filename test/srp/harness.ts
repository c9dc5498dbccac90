/**
 * A small deterministic multi-node harness for the SRP core: virtual clock, a priority queue
 * of events, a seeded PRNG, per-packet loss, partitions, crashes and restarts. It records
 * what each node delivered and checks the extended-virtual-synchrony invariants.
 */
import assert from 'node:assert/strict';
import {
  BROADCAST,
  type Configuration,
  type Guarantee,
  type Host,
  type NodeId,
  type RingId,
} from '../../src/core/io.js';
import { Recorder } from '../../src/recorder/recorder.js';
import type { SrpConfig } from '../../src/srp/config.js';
import { SrpNode } from '../../src/srp/srp-node.js';

export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface QueuedEvent {
  time: number;
  order: number;
  run: () => void;
}

class EventQueue {
  private heap: QueuedEvent[] = [];
  private order = 0;

  get size(): number {
    return this.heap.length;
  }

  push(time: number, run: () => void): void {
    const ev = { time, order: this.order++, run };
    const h = this.heap;
    h.push(ev);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  peekTime(): number {
    return this.heap[0]?.time ?? Number.POSITIVE_INFINITY;
  }

  pop(): QueuedEvent | undefined {
    const h = this.heap;
    if (h.length === 0) return undefined;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && less(h[l]!, h[m]!)) m = l;
        if (r < h.length && less(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}

function less(a: QueuedEvent, b: QueuedEvent): boolean {
  return a.time < b.time || (a.time === b.time && a.order < b.order);
}

/** A recorder that also keeps every record in memory, for tests of the recorded contract. */
export class CapturingRecorder extends Recorder {
  // Not initialised by a field initialiser: the base constructor already records REC_OPEN.
  declare private captured: { ev: number; args: number[]; time: number }[] | undefined;
  get records(): { ev: number; args: number[]; time: number }[] {
    this.captured ??= [];
    return this.captured;
  }
  override rec(ev: number, a0 = 0, a1 = 0, a2 = 0, a3 = 0): void {
    super.rec(ev, a0, a1, a2, a3);
    this.records.push({ ev, args: [a0 | 0, a1 | 0, a2 | 0, a3 | 0], time: this.now });
  }
}

export type LogEntry =
  | { kind: 'msg'; ring: string; seq: number; sender: NodeId; id: string; guarantee: Guarantee }
  | { kind: 'conf'; conf: Configuration; key: string };

export function ringKey(r: RingId): string {
  return `${r.rep}.${r.seq}`;
}

function confKey(c: Configuration): string {
  return `${c.kind}:${ringKey(c.ringId)}:${c.members.join(',')}`;
}

/** One incarnation of a node: it ends with a crash or a leave. */
export interface Incarnation {
  readonly node: NodeId;
  readonly index: number;
  readonly log: LogEntry[];
  /** Ids of messages this incarnation's mcast accepted. */
  readonly sent: string[];
  srp: SrpNode;
  readonly recorder: CapturingRecorder | Recorder;
  ended: boolean;
  persisted: number;
}

export interface WorldOptions {
  seed: number;
  nodes: readonly NodeId[];
  config?: Partial<SrpConfig>;
  /** Probability that one packet copy is lost. */
  loss?: number;
  minLatency?: number;
  maxLatency?: number;
  /** Keep every flight-recorder record in memory (CapturingRecorder). */
  capture?: boolean;
}

export class World {
  now = 0;
  readonly rand: () => number;
  readonly queue = new EventQueue();
  readonly incarnations: Incarnation[] = [];
  readonly current = new Map<NodeId, Incarnation>();
  readonly persisted = new Map<NodeId, number>();
  loss: number;
  /** Drops a packet copy when it returns true (targeted faults). */
  dropFilter: ((from: NodeId, to: NodeId, packet: Uint8Array) => boolean) | null = null;
  private readonly blocked = new Set<string>();
  /** A paused node handles nothing until this time; its inputs wait, in order. */
  private readonly pausedUntil = new Map<NodeId, number>();
  private readonly timerGen = new Map<string, number>();
  private readonly config: Partial<SrpConfig>;
  private readonly minLatency: number;
  private readonly maxLatency: number;
  private msgCounter = 0;
  packetsSent = 0;
  eventsRun = 0;

  constructor(readonly opts: WorldOptions) {
    this.rand = mulberry32(opts.seed);
    this.loss = opts.loss ?? 0;
    this.config = opts.config ?? {};
    this.minLatency = opts.minLatency ?? 0.1;
    this.maxLatency = opts.maxLatency ?? 0.6;
  }

  get nodes(): readonly NodeId[] {
    return this.opts.nodes;
  }

  /** Starts (or restarts) a node. */
  startNode(id: NodeId): Incarnation {
    assert.ok(!this.current.get(id) || this.current.get(id)!.ended, `node ${id} is already running`);
    const index = this.incarnations.filter((i) => i.node === id).length;
    const log: LogEntry[] = [];
    const recOpts = { slots: 1024, nodeId: id, virtualClock: true, pid: 1 };
    const recorder = this.opts.capture ? new CapturingRecorder(recOpts) : new Recorder(recOpts);
    recorder.setTime(this.now);
    const inc: Incarnation = {
      node: id,
      index,
      log,
      sent: [],
      srp: undefined as unknown as SrpNode,
      recorder,
      ended: false,
      persisted: this.persisted.get(id) ?? 0,
    };
    const host: Host = {
      send: (to, packet) => this.send(inc, to, packet),
      setTimer: (timer, delay) => this.setTimer(inc, timer, delay),
      cancelTimer: (timer) => this.timerGen.set(`${id}/${index}/${timer}`, this.nextGen(inc, timer)),
      persistRingSeq: (seq) => {
        assert.ok(seq > (this.persisted.get(id) ?? 0), 'ring seqs only grow');
        this.persisted.set(id, seq);
      },
    };
    inc.srp = new SrpNode({
      nodeId: id,
      config: this.config,
      host,
      recorder,
      persistedRingSeq: this.persisted.get(id) ?? 0,
      listener: {
        deliver: (sender, payload, guarantee, ringId, seq) => {
          log.push({
            kind: 'msg',
            ring: ringKey(ringId),
            seq,
            sender,
            id: new TextDecoder().decode(payload),
            guarantee,
          });
        },
        configurationChange: (conf) => log.push({ kind: 'conf', conf, key: confKey(conf) }),
        tokenVisit: () => {},
      },
    });
    this.incarnations.push(inc);
    this.current.set(id, inc);
    inc.srp.start(this.now);
    return inc;
  }

  crash(id: NodeId): void {
    const inc = this.current.get(id);
    assert.ok(inc && !inc.ended);
    inc.ended = true;
  }

  leave(id: NodeId): void {
    const inc = this.current.get(id);
    assert.ok(inc && !inc.ended);
    inc.srp.leave(this.now);
    inc.ended = true;
  }

  /** Blocks traffic between two groups (both directions). */
  partition(a: readonly NodeId[], b: readonly NodeId[]): void {
    for (const x of a) for (const y of b) this.blocked.add(`${x}>${y}`).add(`${y}>${x}`);
  }

  /** Freezes a node (a process pause): packets and timers queue up and run when it resumes. */
  pause(id: NodeId, ms: number): void {
    this.pausedUntil.set(id, Math.max(this.pausedUntil.get(id) ?? 0, this.now + ms));
  }

  /** Runs `input` now, or when the node resumes if it is paused. */
  private atNode(id: NodeId, input: () => void): void {
    const until = this.pausedUntil.get(id) ?? 0;
    if (until > this.now) this.queue.push(until, () => this.atNode(id, input));
    else input();
  }

  /** Blocks traffic from one node to another only. */
  blockOneWay(from: NodeId, to: NodeId): void {
    if (from !== to) this.blocked.add(`${from}>${to}`);
  }

  heal(): void {
    this.blocked.clear();
  }

  /** Queues one application message at a node; returns its id or null when the queue is full. */
  mcast(id: NodeId, guarantee: Guarantee): string | null {
    const inc = this.current.get(id);
    assert.ok(inc && !inc.ended);
    const msgId = `n${id}.${inc.index}-${this.msgCounter++}`;
    if (!inc.srp.mcast(new TextEncoder().encode(msgId), guarantee)) return null;
    inc.sent.push(msgId);
    return msgId;
  }

  live(): Incarnation[] {
    return [...this.current.values()].filter((i) => !i.ended);
  }

  private nextGen(inc: Incarnation, timer: number): number {
    const key = `${inc.node}/${inc.index}/${timer}`;
    const gen = (this.timerGen.get(key) ?? 0) + 1;
    this.timerGen.set(key, gen);
    return gen;
  }

  private setTimer(inc: Incarnation, timer: number, delay: number): void {
    const gen = this.nextGen(inc, timer);
    const key = `${inc.node}/${inc.index}/${timer}`;
    this.queue.push(this.now + delay, () =>
      this.atNode(inc.node, () => {
        if (inc.ended || this.timerGen.get(key) !== gen) return;
        inc.recorder.setTime(this.now);
        inc.srp.timerExpired(this.now, timer);
      }),
    );
  }

  private send(from: Incarnation, to: NodeId, packet: Uint8Array): void {
    if (from.ended) return;
    const targets = to === BROADCAST ? this.nodes.filter((n) => n !== from.node) : [to];
    for (const target of targets) {
      this.packetsSent++;
      if (this.blocked.has(`${from.node}>${target}`)) continue;
      if (this.loss > 0 && this.rand() < this.loss) continue;
      if (this.dropFilter?.(from.node, target, packet)) continue;
      const delay = this.minLatency + this.rand() * (this.maxLatency - this.minLatency);
      const copy = packet.slice();
      this.queue.push(this.now + delay, () =>
        this.atNode(target, () => {
          const inc = this.current.get(target);
          if (!inc || inc.ended) return;
          inc.recorder.setTime(this.now);
          inc.srp.receive(this.now, from.node, copy);
        }),
      );
    }
  }

  /** Runs events until virtual time `until` (ms). */
  runUntil(until: number, maxEvents = 5_000_000): void {
    while (this.queue.size > 0 && this.queue.peekTime() <= until) {
      const ev = this.queue.pop()!;
      this.now = ev.time;
      ev.run();
      if (++this.eventsRun > maxEvents) throw new Error('event budget exhausted');
    }
    this.now = until;
  }

  runFor(ms: number): void {
    this.runUntil(this.now + ms);
  }

  /** Runs until every live node is OPERATIONAL in one ring of exactly the live nodes, or fails. */
  runUntilStable(limitMs: number, expected?: readonly NodeId[]): void {
    const deadline = this.now + limitMs;
    while (this.now < deadline) {
      this.runFor(10);
      if (this.stable(expected)) return;
    }
    const states = this.live().map(
      (i) => `${i.node}:${i.srp.state}@${ringKey(i.srp.ringId)}[${i.srp.members}]`,
    );
    throw new Error(`no stable ring within ${limitMs} ms: ${states.join(' ')}`);
  }

  stable(expected?: readonly NodeId[]): boolean {
    const live = this.live();
    const want = (expected ?? live.map((i) => i.node)).slice().sort((a, b) => a - b);
    const group = live.filter((i) => want.includes(i.node));
    if (group.length !== want.length) return false;
    const ring = ringKey(group[0]!.srp.ringId);
    return group.every(
      (i) =>
        i.srp.state === 'OPERATIONAL' &&
        ringKey(i.srp.ringId) === ring &&
        i.srp.members.length === want.length &&
        i.srp.members.every((m, k) => m === want[k]),
    );
  }
}

interface Segment {
  /** The configuration that opened this segment. */
  readonly opened: string;
  /** The configuration that closed it (undefined while still open). */
  closed: string | undefined;
  readonly msgs: string[];
}

function segments(log: readonly LogEntry[]): Segment[] {
  const out: Segment[] = [];
  let cur: Segment | undefined;
  for (const e of log) {
    if (e.kind === 'conf') {
      if (cur) cur.closed = e.key;
      cur = { opened: e.key, closed: undefined, msgs: [] };
      out.push(cur);
    } else {
      assert.ok(cur, 'no message is delivered before the first configuration');
      cur.msgs.push(e.id);
    }
  }
  return out;
}

/**
 * Checks the extended-virtual-synchrony invariants over every incarnation's log:
 * one message per (ring, seq) everywhere, no duplicates, increasing order inside a ring,
 * transitional before regular, and identical message streams between identical
 * consecutive configuration changes (so configuration changes sit at the same place).
 */
export function checkInvariants(world: World): void {
  const bySlot = new Map<string, string>();
  const firstSeenConf = new Map<string, Configuration>();
  for (const inc of world.incarnations) {
    const seen = new Set<string>();
    const lastSeqInRing = new Map<string, number>();
    let prevConf: Configuration | undefined;
    for (const e of inc.log) {
      if (e.kind === 'msg') {
        assert.ok(!seen.has(e.id), `node ${inc.node} delivered ${e.id} twice`);
        seen.add(e.id);
        const slot = `${e.ring}#${e.seq}`;
        const other = bySlot.get(slot);
        assert.ok(other === undefined || other === e.id, `slot ${slot} carries ${other} and ${e.id}`);
        bySlot.set(slot, e.id);
        const last = lastSeqInRing.get(e.ring);
        assert.ok(
          last === undefined || ((e.seq - last) | 0) > 0,
          `node ${inc.node} delivered ${slot} out of order`,
        );
        lastSeqInRing.set(e.ring, e.seq);
        assert.ok(e.id.startsWith(`n${e.sender}.`), `message ${e.id} delivered with sender ${e.sender}`);
      } else {
        const c = e.conf;
        if (c.kind === 'regular') {
          assert.ok(
            prevConf?.kind === 'transitional' && ringKey(prevConf.ringId) === ringKey(c.ringId),
            `node ${inc.node}: a regular configuration follows the transitional one of its ring`,
          );
          assert.ok(c.members.includes(inc.node));
          const expectJoined = c.members.filter((m) => !prevConf!.members.includes(m));
          assert.deepEqual([...c.joined], expectJoined, `node ${inc.node}: joined = regular − transitional`);
        } else {
          assert.ok(c.members.includes(inc.node));
        }
        const known = firstSeenConf.get(e.key);
        if (known && c.kind === 'transitional') {
          assert.deepEqual([...known.left], [...c.left], `configuration ${e.key} left lists agree`);
        } else if (!known) firstSeenConf.set(e.key, c);
        prevConf = c;
      }
    }
  }
  const segs = world.incarnations.map((inc) => segments(inc.log));
  for (let a = 0; a < segs.length; a++) {
    for (let b = a + 1; b < segs.length; b++) {
      for (const sa of segs[a]!) {
        for (const sb of segs[b]!) {
          if (sa.opened !== sb.opened) continue;
          if (sa.closed !== undefined && sa.closed === sb.closed) {
            assert.deepEqual(
              sa.msgs,
              sb.msgs,
              `incarnations ${a} and ${b} delivered different messages between ${sa.opened} and ${sa.closed}`,
            );
          } else {
            const n = Math.min(sa.msgs.length, sb.msgs.length);
            const crashedOrOpen = sa.closed === undefined || sb.closed === undefined;
            if (crashedOrOpen)
              assert.deepEqual(
                sa.msgs.slice(0, n),
                sb.msgs.slice(0, n),
                `stream prefix differs in ${sa.opened}`,
              );
          }
        }
      }
    }
  }
}

/** Every message a live node sent was delivered exactly once to every live node (after quiescence). */
export function checkAllDelivered(world: World, senders: readonly Incarnation[] = world.live()): void {
  const live = world.live();
  for (const recv of live) {
    const got = new Set(recv.log.filter((e) => e.kind === 'msg').map((e) => (e as { id: string }).id));
    for (const s of senders) {
      for (const id of s.sent) assert.ok(got.has(id), `node ${recv.node} never delivered ${id}`);
    }
  }
}

export function messageIds(inc: Incarnation): string[] {
  return inc.log.filter((e) => e.kind === 'msg').map((e) => (e as { id: string }).id);
}

export function confs(inc: Incarnation): Configuration[] {
  return inc.log.filter((e) => e.kind === 'conf').map((e) => (e as { conf: Configuration }).conf);
}
