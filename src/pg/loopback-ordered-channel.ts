/**
 * A stand-in for the ordering layer, for tests and benchmarks: N members in one process,
 * frames put in one total order and delivered to every member including the sender.
 *
 * It keeps the contract pg relies on from srp: a node's frames are ordered only while it
 * holds the token (visit), after its tokenVisit callback; every member sees the same sequence;
 * a configuration change delivers a transitional then a regular configuration, and frames a
 * leaver had queued but not yet ordered are lost with it. Nothing here reads a clock.
 */

import type {
  Configuration,
  Guarantee,
  NodeId,
  OrderedChannel,
  OrderedListener,
  RingId,
} from '../core/io.js';
import { assert } from './assert.js';

export interface LoopbackOptions {
  readonly members: readonly NodeId[];
  /** Frames each member may have queued (default 64). */
  readonly queueCapacity?: number;
  /** Largest frame (default 1324, the pg default budget). */
  readonly maxPayload?: number;
  /** Frames one visit orders (default unlimited). */
  readonly maxFramesPerVisit?: number;
  /**
   * Called for each frame as it is ordered; returns the bytes every member receives. Lets
   * tests damage frames between sender and receivers.
   */
  readonly tamper?: (sender: NodeId, frame: Uint8Array, seq: number) => Uint8Array;
}

interface Queued {
  readonly frame: Uint8Array;
  readonly guarantee: Guarantee;
}

/** One member's view: the OrderedChannel pg sends through. */
export class LoopbackOrderedChannel implements OrderedChannel {
  readonly queue: Queued[] = [];

  constructor(
    readonly nodeId: NodeId,
    private readonly capacity: number,
    readonly maxPayload: number,
  ) {}

  mcast(payload: Uint8Array, guarantee: Guarantee): boolean {
    assert(payload.length <= this.maxPayload, `frame of ${payload.length} bytes exceeds maxPayload`);
    if (this.queue.length >= this.capacity) return false;
    this.queue.push({ frame: payload, guarantee });
    return true;
  }

  sendQueueRoom(): number {
    return this.capacity - this.queue.length;
  }
}

export class LoopbackRing {
  private readonly channels = new Map<NodeId, LoopbackOrderedChannel>();
  private readonly listeners = new Map<NodeId, OrderedListener>();
  private members: NodeId[];
  private ringId: RingId;
  private seq = 0;
  private delivering = false;
  readonly queueCapacity: number;
  readonly maxPayload: number;
  /** Every frame ordered so far: (sender, seq, bytes as delivered). */
  readonly ordered: { sender: NodeId; seq: number; frame: Uint8Array }[] = [];

  constructor(private readonly opts: LoopbackOptions) {
    this.queueCapacity = opts.queueCapacity ?? 64;
    this.maxPayload = opts.maxPayload ?? 1324;
    this.members = [...opts.members].sort((a, b) => a - b);
    assert(this.members.length > 0, 'a ring needs a member');
    this.ringId = { rep: this.members[0]!, seq: 4 };
    for (const m of this.members) this.channels.set(m, this.newChannel(m));
  }

  channel(node: NodeId): LoopbackOrderedChannel {
    const ch = this.channels.get(node);
    assert(ch !== undefined, `node ${node} is not a member`);
    return ch;
  }

  attach(node: NodeId, listener: OrderedListener): void {
    assert(this.channels.has(node), `node ${node} is not a member`);
    this.listeners.set(node, listener);
  }

  get currentMembers(): readonly NodeId[] {
    return this.members;
  }

  get currentRing(): RingId {
    return this.ringId;
  }

  /** Frames waiting in members' queues. */
  queuedFrames(): number {
    let n = 0;
    for (const ch of this.channels.values()) n += ch.queue.length;
    return n;
  }

  /**
   * node holds the token: its tokenVisit runs, then up to `limit` of its queued frames are
   * ordered and delivered to every member, in ascending node order.
   */
  visit(node: NodeId, limit = this.opts.maxFramesPerVisit ?? Number.POSITIVE_INFINITY): number {
    assert(!this.delivering, 'visit while delivering');
    const ch = this.channel(node);
    this.delivering = true;
    try {
      this.listeners.get(node)?.tokenVisit();
      let n = 0;
      while (n < limit && ch.queue.length > 0) {
        const { frame, guarantee } = ch.queue.shift()!;
        this.seq++;
        const bytes = this.opts.tamper ? this.opts.tamper(node, frame, this.seq) : frame;
        this.ordered.push({ sender: node, seq: this.seq, frame: bytes });
        for (const member of this.members) {
          this.listeners.get(member)?.deliver(node, bytes, guarantee, this.ringId, this.seq);
        }
        n++;
      }
      return n;
    } finally {
      this.delivering = false;
    }
  }

  /** One token rotation: every member visited once, in ring order. */
  rotate(): number {
    let n = 0;
    for (const m of [...this.members]) n += this.visit(m);
    return n;
  }

  /** Rotates until every queue is empty and nothing is staged (bounded). */
  settle(maxRotations = 10_000): void {
    for (let i = 0; i < maxRotations; i++) {
      // Two quiet rotations: the first may only flush packed frames into queues.
      if (this.rotate() === 0 && this.rotate() === 0 && this.queuedFrames() === 0) return;
    }
    throw new Error(`loopback ring did not settle in ${maxRotations} rotations`);
  }

  /**
   * Installs a new membership: a transitional configuration (the members that stay) then a
   * regular one (everyone in `next`). Frames queued by leavers are discarded unordered.
   */
  reconfigure(next: readonly NodeId[]): void {
    assert(!this.delivering, 'reconfigure while delivering');
    const nextSorted = [...new Set(next)].sort((a, b) => a - b);
    assert(nextSorted.length > 0, 'a ring needs a member');
    const stay = this.members.filter((m) => nextSorted.includes(m));
    const left = this.members.filter((m) => !nextSorted.includes(m));
    const joined = nextSorted.filter((m) => !this.members.includes(m));
    for (const m of left) {
      this.channels.delete(m);
      this.listeners.delete(m);
    }
    const oldRing = this.ringId;
    const transitional: Configuration = {
      kind: 'transitional',
      ringId: oldRing,
      members: stay,
      left,
      joined: [],
    };
    for (const m of stay) this.listeners.get(m)?.configurationChange(transitional);
    this.ringId = { rep: nextSorted[0]!, seq: oldRing.seq + 4 };
    this.members = nextSorted;
    for (const m of joined) this.channels.set(m, this.newChannel(m));
    const regular: Configuration = {
      kind: 'regular',
      ringId: this.ringId,
      members: nextSorted,
      left: [],
      joined,
    };
    for (const m of nextSorted) this.listeners.get(m)?.configurationChange(regular);
  }

  private newChannel(node: NodeId): LoopbackOrderedChannel {
    return new LoopbackOrderedChannel(node, this.queueCapacity, this.maxPayload);
  }
}
