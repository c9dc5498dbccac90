/**
 * ProcessGroups: the pg layer. Sits on an ordering layer (OrderedChannel below, OrderedListener
 * up from it) and offers group-addressed messages of any size up to maxMessageSize.
 *
 * Sans-IO: no clock and no timers. Packed messages wait at most until this node's next token
 * visit (tokenVisit flushes), or until a count/bytes bound closes the frame earlier.
 */

import {
  type Configuration,
  Guarantee,
  type NodeId,
  type OrderedChannel,
  type OrderedListener,
  type RingId,
} from '../core/io.js';
import { EV } from '../recorder/events/index.js';
import type { Recorder } from '../recorder/recorder.js';
import { DEFAULT_FRAME_SIZE, DEFAULT_MAX_MESSAGE_SIZE, DEFAULT_MAX_PACKED_CHUNKS } from './budget.js';
import { MIN_FRAME_BYTES } from './frame.js';
import { type GroupName, groupBytes, groupKey, groupLabel, sameName } from './group-name.js';
import { PACKER_FAULTS, type PackerFaults } from './internal-faults.js';
import { FlushReason, FramePacker } from './packer.js';
import { type AssembledMessage, DropReason, Reassembly, type ReassemblyStats } from './reassembly.js';

export interface ProcessGroupsOptions {
  readonly channel: OrderedChannel;
  readonly recorder: Recorder;
  readonly nodeId: NodeId;
  /** Largest message accepted for sending or assembled on receipt (default 1 MiB). */
  readonly maxMessageSize?: number;
  /** Frame size; the smaller of this and channel.maxPayload is used (default: see budget.ts). */
  readonly frameSize?: number;
  /** Close a frame once it holds this many chunks (default 64). */
  readonly maxPackedChunks?: number;
  /** Close a frame once it holds this many bytes (default: the frame size, i.e. when full). */
  readonly maxPackedBytes?: number;
  /** Test-only; the key is not exported from the package. */
  readonly [PACKER_FAULTS]?: PackerFaults;
}

/** A receiver of group messages (and of configuration changes while joined to any group). */
export interface GroupListener {
  deliver(group: Uint8Array, sender: NodeId, message: Uint8Array, guarantee: Guarantee): void;
  configurationChange?(conf: Configuration): void;
}

export type SendResult =
  | { readonly kind: 'ok'; readonly msgId: number }
  /** The ordering layer's queue cannot take every frame the message needs now; retry after a token visit. */
  | { readonly kind: 'try-again'; readonly framesNeeded: number; readonly room: number }
  | { readonly kind: 'too-large'; readonly size: number; readonly max: number };

export interface Membership {
  leave(): void;
}

export interface ProcessGroupsStats extends ReassemblyStats {
  messagesSent: number;
  framesSent: number;
  sendsRefused: number;
  /** Messages assembled for a group nobody here joined. */
  undelivered: number;
}

interface GroupEntry {
  readonly name: Uint8Array;
  readonly listeners: GroupListener[];
}

const REFUSAL_TRY_AGAIN = 0;
const REFUSAL_TOO_LARGE = 1;
const CONF_KIND = { transitional: 0, regular: 1 } as const;

export class ProcessGroups implements OrderedListener {
  readonly nodeId: NodeId;
  readonly frameSize: number;
  readonly maxMessageSize: number;
  private readonly channel: OrderedChannel;
  private readonly recorder: Recorder;
  private readonly packer: FramePacker;
  private readonly reassembly: Reassembly;
  private readonly groups = new Map<string, GroupEntry>();
  private readonly groupStringIds = new Map<string, number>();
  /** Closed frames the channel has not accepted yet, oldest first. */
  private readonly waiting: { frame: Uint8Array; guarantee: Guarantee }[] = [];
  private nextMsgId = 1;
  /** The last group name seen on delivery and its key: most traffic is one or two groups. */
  private lastGroup: Uint8Array = new Uint8Array(0);
  private lastGroupKey = '';
  private readonly sendStats = { messagesSent: 0, framesSent: 0, sendsRefused: 0, undelivered: 0 };

  constructor(opts: ProcessGroupsOptions) {
    this.channel = opts.channel;
    this.recorder = opts.recorder;
    this.nodeId = opts.nodeId;
    this.maxMessageSize = opts.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;
    if (
      !Number.isInteger(this.maxMessageSize) ||
      this.maxMessageSize < 0 ||
      this.maxMessageSize > 0xffffffff
    ) {
      throw new RangeError(`maxMessageSize must be an integer in 0..2^32-1, got ${this.maxMessageSize}`);
    }
    this.frameSize = Math.min(opts.frameSize ?? DEFAULT_FRAME_SIZE, this.channel.maxPayload);
    if (this.frameSize < MIN_FRAME_BYTES) {
      throw new RangeError(`pg frame size ${this.frameSize} is below the minimum ${MIN_FRAME_BYTES}`);
    }
    this.packer = new FramePacker(
      {
        frameSize: this.frameSize,
        maxPackedChunks: opts.maxPackedChunks ?? DEFAULT_MAX_PACKED_CHUNKS,
        maxPackedBytes: opts.maxPackedBytes ?? this.frameSize,
      },
      (frame, guarantee) => this.enqueue(frame, guarantee),
      this.recorder,
      opts[PACKER_FAULTS],
    );
    this.reassembly = new Reassembly(this.recorder, this.maxMessageSize, (m) => this.dispatch(m));
  }

  /**
   * Sends one message, given as pieces (any may be empty) whose concatenation is the message.
   * Never throws for back-pressure or size: the result says what happened.
   */
  send(
    group: GroupName,
    pieces: Uint8Array | readonly Uint8Array[],
    guarantee: Guarantee = Guarantee.Agreed,
  ): SendResult {
    const name = groupBytes(group);
    const list: readonly Uint8Array[] = pieces instanceof Uint8Array ? [pieces] : pieces;
    let total = 0;
    for (const piece of list) total += piece.length;
    if (total > this.maxMessageSize) {
      this.sendStats.sendsRefused++;
      this.recorder.rec(EV.PG_SEND_REFUSED, REFUSAL_TOO_LARGE, total, 0, 0);
      return { kind: 'too-large', size: total, max: this.maxMessageSize };
    }
    const framesNeeded = this.packer.framesNeeded(name.length, list, total, guarantee);
    const room = this.channel.sendQueueRoom() - this.waiting.length;
    if (framesNeeded > room) {
      this.sendStats.sendsRefused++;
      this.recorder.rec(EV.PG_SEND_REFUSED, REFUSAL_TRY_AGAIN, total, framesNeeded, Math.max(room, 0));
      return { kind: 'try-again', framesNeeded, room: Math.max(room, 0) };
    }
    const msgId = this.nextMsgId;
    // Consecutive per sender, wrapping through 0: `fplay check` reads a gap as a lost message.
    this.nextMsgId = (msgId + 1) >>> 0;
    this.sendStats.messagesSent++;
    this.recorder.rec(EV.PG_SEND, msgId, total, list.length, this.groupStringId(name));
    this.packer.add(msgId, name, list, total, guarantee);
    this.drain();
    return { kind: 'ok', msgId };
  }

  /** Starts delivering a group's messages to listener. The same listener may join many groups. */
  join(group: GroupName, listener: GroupListener): Membership {
    const name = groupBytes(group);
    const key = groupKey(name);
    let entry = this.groups.get(key);
    if (!entry) {
      entry = { name: name.slice(), listeners: [] };
      this.groups.set(key, entry);
    }
    entry.listeners.push(listener);
    let joined = true;
    return {
      leave: () => {
        if (!joined) return;
        joined = false;
        const current = this.groups.get(key);
        if (!current) return;
        const at = current.listeners.indexOf(listener);
        if (at >= 0) current.listeners.splice(at, 1);
        if (current.listeners.length === 0) this.groups.delete(key);
      },
    };
  }

  /** Bytes staged in the frame being packed (0 if none): lets tests aim at frame boundaries. */
  get stagedFrameBytes(): number {
    return this.packer.stagedBytes;
  }

  /** Frames closed but not yet accepted by the channel. */
  get framesWaiting(): number {
    return this.waiting.length;
  }

  get stats(): Readonly<ProcessGroupsStats> {
    return { ...this.reassembly.stats, ...this.sendStats };
  }

  get assemblyErrorCounts(): ReadonlyMap<string, number> {
    return this.reassembly.errorCounts;
  }

  /** Senders whose partial message is held here. */
  pendingSenders(): NodeId[] {
    return this.reassembly.pendingSenders();
  }

  // ---- OrderedListener -------------------------------------------------------------------

  deliver(sender: NodeId, payload: Uint8Array, guarantee: Guarantee, _ringId: RingId, seq: number): void {
    this.reassembly.frame(sender, payload, guarantee, seq);
  }

  configurationChange(conf: Configuration): void {
    let dropped = 0;
    if (conf.kind === 'transitional') {
      for (const node of conf.left) if (this.reassembly.forgetSender(node, DropReason.Left)) dropped++;
    } else if (conf.joined.includes(this.nodeId)) {
      // Everything held was assembled in another partition's order: start clean.
      for (const node of this.reassembly.knownSenders()) {
        if (this.reassembly.forgetSender(node, DropReason.SelfJoined)) dropped++;
      }
    } else {
      // A joiner may be mid-message from its old partition; its next continuation is skipped.
      for (const node of conf.joined)
        if (this.reassembly.forgetSender(node, DropReason.SenderJoined)) dropped++;
    }
    this.recorder.rec(EV.PG_CONF, CONF_KIND[conf.kind], conf.members.length, conf.left.length, dropped);
    const told = new Set<GroupListener>();
    for (const entry of [...this.groups.values()]) {
      for (const listener of [...entry.listeners]) {
        if (told.has(listener)) continue;
        told.add(listener);
        listener.configurationChange?.(conf);
      }
    }
  }

  tokenVisit(): void {
    this.packer.flush(FlushReason.Token);
    this.drain();
  }

  // ---- internals ---------------------------------------------------------------------------

  private enqueue(frame: Uint8Array, guarantee: Guarantee): void {
    this.waiting.push({ frame, guarantee });
  }

  /** Hands waiting frames to the channel in order, stopping at the first refusal. */
  private drain(): void {
    let sent = 0;
    while (sent < this.waiting.length) {
      const next = this.waiting[sent]!;
      if (!this.channel.mcast(next.frame, next.guarantee)) break;
      sent++;
    }
    if (sent > 0) this.waiting.splice(0, sent);
    this.sendStats.framesSent += sent;
    if (this.waiting.length > 0) {
      this.recorder.rec(EV.PG_FRAME_BLOCKED, this.waiting.length, this.channel.sendQueueRoom());
    }
  }

  private dispatch(m: AssembledMessage): void {
    let key = this.lastGroupKey;
    if (!sameName(m.group, this.lastGroup)) {
      key = groupKey(m.group);
      this.lastGroup = m.group.slice();
      this.lastGroupKey = key;
    }
    this.recorder.rec(
      EV.PG_DELIVER,
      m.sender,
      m.msgId,
      m.message.length,
      this.groupStringIdByKey(key, m.group),
    );
    const entry = this.groups.get(key);
    if (!entry) {
      this.sendStats.undelivered++;
      return;
    }
    for (const listener of [...entry.listeners])
      listener.deliver(entry.name, m.sender, m.message, m.guarantee);
  }

  private groupStringId(name: Uint8Array): number {
    return this.groupStringIdByKey(groupKey(name), name);
  }

  private groupStringIdByKey(key: string, name: Uint8Array): number {
    let id = this.groupStringIds.get(key);
    if (id === undefined) {
      id = this.recorder.intern(groupLabel(name));
      this.groupStringIds.set(key, id);
    }
    return id;
  }
}
