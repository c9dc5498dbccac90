/**
 * A toy ordering core for testing the simulator itself: a fixed sequencer (the lowest
 * member) assigns sequence numbers; members resubmit until their message is ordered, ack
 * what they hold contiguously, and get gaps resent. Static membership: it tolerates loss,
 * duplication, reordering, delay and pauses, but not partitions or crashes.
 *
 * `bug` plants a defect so tests can show the checkers catch it in a real run.
 */
import {
  type Configuration,
  Guarantee,
  type Host,
  type NodeId,
  type OrderedListener,
  type RingId,
} from '../../src/core/io.js';
import type { SimCore, SimCoreContext, SimCoreFactory } from '../../src/sim/sim-core.js';
import { DecodeError } from '../../src/wire/decode-error.js';
import { WireReader } from '../../src/wire/reader.js';
import { WireWriter } from '../../src/wire/writer.js';

export type ToyBug = 'none' | 'safe-too-early' | 'duplicate' | 'drop-own';

const SUBMIT = 1;
const ORDER = 2;
const ACK = 3;
const STATUS = 4;
const TICK = 1;
const TICK_MS = 10;
const RESEND_BATCH = 32;

interface Order {
  readonly seq: number;
  readonly sender: NodeId;
  readonly localSeq: number;
  readonly guarantee: Guarantee;
  readonly payload: Uint8Array;
}

type Packet =
  | { type: typeof SUBMIT; sender: NodeId; localSeq: number; guarantee: Guarantee; payload: Uint8Array }
  | ({ type: typeof ORDER } & Order)
  | { type: typeof ACK; contiguous: number }
  | { type: typeof STATUS; high: number; stable: number };

function encode(p: Packet): Uint8Array {
  const w = new WireWriter(64).u8(p.type);
  switch (p.type) {
    case SUBMIT:
      return w.u32(p.sender).u32(p.localSeq).u8(p.guarantee).bytes(p.payload).finish();
    case ORDER:
      return w.u32(p.seq).u32(p.sender).u32(p.localSeq).u8(p.guarantee).bytes(p.payload).finish();
    case ACK:
      return w.u32(p.contiguous).finish();
    case STATUS:
      return w.u32(p.high).u32(p.stable).finish();
  }
}

function decode(bytes: Uint8Array): Packet {
  const r = new WireReader(bytes, 'toy packet');
  const type = r.u8();
  switch (type) {
    case SUBMIT: {
      const sender = r.u32();
      const localSeq = r.u32();
      const guarantee = r.u8() === 1 ? Guarantee.Safe : Guarantee.Agreed;
      return { type, sender, localSeq, guarantee, payload: r.bytesView(r.remaining) };
    }
    case ORDER: {
      const seq = r.u32();
      const sender = r.u32();
      const localSeq = r.u32();
      const guarantee = r.u8() === 1 ? Guarantee.Safe : Guarantee.Agreed;
      return { type, seq, sender, localSeq, guarantee, payload: r.bytesView(r.remaining) };
    }
    case ACK: {
      const contiguous = r.u32();
      r.end();
      return { type, contiguous };
    }
    case STATUS: {
      const high = r.u32();
      const stable = r.u32();
      r.end();
      return { type, high, stable };
    }
    default:
      return r.fail('bad-type', 0);
  }
}

class ToySequencer implements SimCore {
  readonly maxPayload = 1024;
  private readonly id: NodeId;
  private readonly host: Host;
  private readonly listener: OrderedListener;
  private readonly sequencer: NodeId;
  private readonly ring: RingId;
  private nextLocal = 1;
  private readonly pending = new Map<number, { guarantee: Guarantee; payload: Uint8Array }>();
  private readonly received = new Map<number, Order>();
  private contiguous = 0;
  private delivered = 0;
  private stable = 0;
  // Sequencer state.
  private high = 0;
  private readonly log: Order[] = [];
  private readonly nextFrom = new Map<NodeId, number>();
  private readonly acks = new Map<NodeId, number>();
  badPackets = 0;

  constructor(
    ctx: SimCoreContext,
    private readonly members: readonly NodeId[],
    private readonly bug: ToyBug,
  ) {
    this.id = ctx.nodeId;
    this.host = ctx.host;
    this.listener = ctx.listener;
    this.sequencer = members[0]!;
    this.ring = { rep: this.sequencer, seq: 4 };
    for (const m of members) this.acks.set(m, 0);
  }

  start(_now: number): void {
    const conf: Configuration = {
      kind: 'regular',
      ringId: this.ring,
      members: this.members,
      left: [],
      joined: this.members,
    };
    this.listener.configurationChange(conf);
    this.host.setTimer(TICK, TICK_MS);
  }

  mcast(payload: Uint8Array, guarantee: Guarantee): boolean {
    if (this.sendQueueRoom() <= 0) return false;
    const localSeq = this.nextLocal++;
    this.pending.set(localSeq, { guarantee, payload });
    this.submit(localSeq, guarantee, payload);
    return true;
  }

  sendQueueRoom(): number {
    return 256 - this.pending.size;
  }

  leave(_now: number): void {}

  phase(): string {
    return 'OPERATIONAL';
  }

  counters(): Readonly<Record<string, number>> {
    return { badPackets: this.badPackets, delivered: this.delivered };
  }

  describe(): string {
    return `toy contiguous=${this.contiguous} delivered=${this.delivered} pending=${this.pending.size}`;
  }

  private submit(localSeq: number, guarantee: Guarantee, payload: Uint8Array): void {
    if (this.id === this.sequencer) this.order(this.id, localSeq, guarantee, payload);
    else
      this.host.send(this.sequencer, encode({ type: SUBMIT, sender: this.id, localSeq, guarantee, payload }));
  }

  private order(sender: NodeId, localSeq: number, guarantee: Guarantee, payload: Uint8Array): void {
    // Per-sender FIFO: only the next expected submission is ordered; the rest are resent.
    const expected = this.nextFrom.get(sender) ?? 1;
    if (localSeq !== expected) return;
    this.nextFrom.set(sender, expected + 1);
    const o: Order = { seq: ++this.high, sender, localSeq, guarantee, payload };
    this.log.push(o);
    this.host.send(0, encode({ type: ORDER, ...o }));
    this.accept(o);
  }

  receive(_now: number, from: NodeId, bytes: Uint8Array): void {
    let p: Packet;
    try {
      p = decode(bytes);
    } catch (err) {
      if (!(err instanceof DecodeError)) throw err;
      this.badPackets++;
      return;
    }
    switch (p.type) {
      case SUBMIT:
        if (this.id === this.sequencer) this.order(p.sender, p.localSeq, p.guarantee, p.payload);
        return;
      case ORDER:
        this.accept(p);
        return;
      case ACK:
        if (this.id !== this.sequencer || !this.acks.has(from)) return;
        this.acks.set(from, Math.max(this.acks.get(from)!, p.contiguous));
        for (let s = p.contiguous + 1; s <= Math.min(this.high, p.contiguous + RESEND_BATCH); s++)
          this.host.send(from, encode({ type: ORDER, ...this.log[s - 1]! }));
        this.updateStable(Math.min(...this.acks.values()));
        return;
      case STATUS:
        this.updateStable(p.stable);
        return;
    }
  }

  timerExpired(_now: number, timer: number): void {
    if (timer !== TICK) return;
    let n = 0;
    for (const [localSeq, m] of this.pending) {
      if (n++ >= RESEND_BATCH) break;
      this.submit(localSeq, m.guarantee, m.payload);
    }
    if (this.id === this.sequencer) {
      this.acks.set(this.id, this.contiguous);
      this.updateStable(Math.min(...this.acks.values()));
      this.host.send(0, encode({ type: STATUS, high: this.high, stable: this.stable }));
    } else {
      this.host.send(this.sequencer, encode({ type: ACK, contiguous: this.contiguous }));
    }
    this.host.setTimer(TICK, TICK_MS);
  }

  private updateStable(stable: number): void {
    if (stable > this.stable) this.stable = stable;
    this.deliverReady();
  }

  private accept(o: Order): void {
    if (o.seq <= this.contiguous || this.received.has(o.seq)) return;
    this.received.set(o.seq, o);
    while (this.received.has(this.contiguous + 1)) this.contiguous++;
    if (o.sender === this.id) this.pending.delete(o.localSeq);
    this.deliverReady();
  }

  private deliverReady(): void {
    for (;;) {
      const o = this.received.get(this.delivered + 1);
      if (!o) return;
      if (o.guarantee === Guarantee.Safe && o.seq > this.stable && this.bug !== 'safe-too-early') return;
      this.delivered++;
      this.received.delete(o.seq);
      if (this.bug === 'drop-own' && o.sender === this.id && o.seq % 7 === 0) continue;
      this.listener.deliver(o.sender, o.payload, o.guarantee, this.ring, o.seq);
      if (this.bug === 'duplicate' && o.seq === 5)
        this.listener.deliver(o.sender, o.payload, o.guarantee, this.ring, o.seq);
    }
  }
}

/** A factory for a toy cluster of the given (fixed) members. */
export function toySequencerFactory(members: readonly NodeId[], bug: ToyBug = 'none'): SimCoreFactory {
  return {
    name: bug === 'none' ? 'toy-sequencer' : `toy-sequencer-${bug}`,
    timing: { tokenMs: 100, tokenRetransmitMs: 25, settleMs: 2000 },
    create: (ctx) => new ToySequencer(ctx, members, bug),
    inspect(packet) {
      try {
        const p = decode(packet);
        return { payloads: p.type === ORDER || p.type === SUBMIT ? [p.payload] : [] };
      } catch (err) {
        return { payloads: [], error: String(err) };
      }
    },
  };
}
