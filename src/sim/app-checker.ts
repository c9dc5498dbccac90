/**
 * The invariant checker for cores that deliver application messages through the
 * process-group layer. It judges each application message exactly as the ordering-level
 * checker judges an ordering message (same set, same order, configuration, fifo, EVS,
 * self-delivery, liveness), after checking what only the application level can get wrong:
 *
 * - app-intact    a delivered message is one that was sent, with its exact length and bytes
 *                 (a truncated, merged or glued message fails here); messages too short to
 *                 carry an id (0..15 bytes) are identified by position among their sender's
 *                 messages and must match that message's length and bytes
 * - app-boundary  the frame that completed a message holds that message's LAST chunk
 *                 (a message finished by another message's chunk was glued)
 * - app-no-loss   within one configuration a node delivers consecutive messages of a sender:
 *                 a gap is a message lost or merged (a sender's partial message may only
 *                 vanish across a configuration change)
 *
 * To the ordering-level checks each message is numbered (frame seq × 128 + chunk index of
 * its LAST chunk), a number every member must agree on.
 */
import type { Guarantee, NodeId, RingId } from '../core/io.js';
import { CHUNK_LAST, type Chunk } from '../pg/frame.js';
import { InvariantChecker, ringKey } from './checker.js';
import { decodePayload, encodePayload, PAYLOAD_HEADER, PAYLOAD_MAGIC } from './payload.js';

/** Chunks per frame are bounded by pg's maxPackedChunks (64) and the frame size. */
export const CHUNK_SLOTS = 128;

/** Bytes of a message too short for the payload header: a pattern of its id. */
export function shortPayload(msgId: number, length: number): Uint8Array {
  if (length >= PAYLOAD_HEADER) throw new RangeError(`short payload of ${length} bytes`);
  const b = new Uint8Array(length);
  for (let i = 0; i < length; i++) b[i] = (msgId * 31 + i * 7 + 1) & 0xff;
  return b;
}

function matchesShort(bytes: Uint8Array, msgId: number): boolean {
  for (let i = 0; i < bytes.length; i++) if (bytes[i] !== ((msgId * 31 + i * 7 + 1) & 0xff)) return false;
  return true;
}

/** The bytes of application message msgId of `length` bytes. */
export function appPayload(msgId: number, sender: NodeId, length: number): Uint8Array {
  return length >= PAYLOAD_HEADER ? encodePayload(msgId, sender, length) : shortPayload(msgId, length);
}

/** Ids at or above this are markers of a frame's LAST chunk, not workload ids. */
const MARKER_BIT = 0x80000000;

/** A marker for "the LAST chunk of pg message pgMsgId of origin" (node ids < 32). */
export function lastChunkMarker(origin: NodeId, pgMsgId: number): number {
  return (MARKER_BIT | (origin << 26) | (pgMsgId & 0x3ffffff)) >>> 0;
}

interface AppMessage {
  readonly sender: NodeId;
  readonly incarnation: number;
  readonly length: number;
  /** Position among the sender's messages (all incarnations). */
  readonly index: number;
  pgMsgId: number;
}

interface NodeApp {
  epoch: number;
  /** The frame being delivered (set by the core before it hands the frame to pg). */
  frame: readonly Chunk[] | undefined;
  readonly last: Map<NodeId, { msgId: number; index: number; epoch: number }>;
}

export class AppChecker extends InvariantChecker {
  private readonly app = new Map<number, AppMessage>();
  private readonly bySender = new Map<NodeId, number[]>();
  private readonly nodeApp = new Map<NodeId, NodeApp>();
  /** Marker -> message ids (several when a restart reuses pg ids), oldest first. */
  private readonly markers = new Map<number, number[]>();
  /** `marker#incarnation` of a fragmented message -> the ring its FIRST chunk was ordered in. */
  private readonly firstRing = new Map<string, string>();
  private readonly straddling = new Set<number>();
  private readonly incarnations = new Map<NodeId, number>();
  /** `node#incarnation` of each regular ring's members (a restart reuses pg ids). */
  private readonly ringMembers = new Map<string, Map<NodeId, number>>();
  straddlingMessages = 0;
  appDeliveries = 0;
  shortDeliveries = 0;

  /** The core handed message msgId (its final shape: `length` bytes) to pg. */
  appSent(sender: NodeId, msgId: number, length: number): void {
    const list = this.bySender.get(sender) ?? [];
    this.bySender.set(sender, list);
    const incarnation = this.incarnations.get(sender) ?? 0;
    this.app.set(msgId, { sender, incarnation, length, index: list.length, pgMsgId: -1 });
    list.push(msgId);
  }

  /** pg accepted message msgId under its own wire id. */
  pgAccepted(msgId: number, pgMsgId: number): void {
    const m = this.app.get(msgId);
    if (!m) throw new Error(`pg id for unknown message ${msgId}`);
    m.pgMsgId = pgMsgId;
    const marker = lastChunkMarker(m.sender, pgMsgId);
    const ids = this.markers.get(marker);
    if (ids) ids.push(msgId);
    else this.markers.set(marker, [msgId]);
  }

  override received(node: NodeId, id: number): void {
    if (id < MARKER_BIT) return;
    const ids = this.markers.get(id);
    // With a reused pg id the frame may be either incarnation's: the newest is the likely one.
    if (ids) super.received(node, ids[ids.length - 1]!);
  }

  /** The frame `node` is about to hand to pg (its deliveries complete inside it). */
  frameArrived(node: NodeId, sender: NodeId, ringId: RingId, chunks: readonly Chunk[] | undefined): void {
    this.appOf(node).frame = chunks;
    if (!chunks) return;
    const key = ringKey(ringId);
    const incarnation = this.ringMembers.get(key)?.get(sender) ?? 0;
    for (const c of chunks)
      if (c.fragIndex === 0 && (c.flags & CHUNK_LAST) === 0)
        this.firstRing.set(`${lastChunkMarker(sender, c.msgId)}#${incarnation}`, key);
  }

  /** The frame has been handed to pg. */
  frameDone(node: NodeId): void {
    this.appOf(node).frame = undefined;
  }

  /**
   * A message whose first fragment was ordered in an earlier configuration than its last is
   * delivered only by the members that saw it start (a node that joined in between skips its
   * continuations): it takes no part in the same-set comparison.
   */
  protected override evsExempt(msgId: number): boolean {
    return this.straddling.has(msgId);
  }

  override nodeStarted(node: NodeId, incarnation: number): void {
    super.nodeStarted(node, incarnation);
    this.incarnations.set(node, incarnation);
    this.nodeApp.set(node, { epoch: 0, frame: undefined, last: new Map() });
  }

  override configurationChange(
    node: NodeId,
    conf: Parameters<InvariantChecker['configurationChange']>[1],
  ): boolean {
    this.appOf(node).epoch++;
    if (conf.kind === 'regular') {
      const key = ringKey(conf.ringId);
      const members = this.ringMembers.get(key) ?? new Map<NodeId, number>();
      members.set(node, this.incarnations.get(node) ?? 0);
      this.ringMembers.set(key, members);
    }
    return super.configurationChange(node, conf);
  }

  override delivered(
    node: NodeId,
    sender: NodeId,
    payload: Uint8Array,
    guarantee: Guarantee,
    ringId: RingId,
    frameSeq: number,
  ): boolean {
    this.appDeliveries++;
    const st = this.appOf(node);
    const msgId = this.identify(node, st, sender, payload, ringId);
    if (msgId < 0) return false;
    const m = this.app.get(msgId)!;
    const frame = st.frame;
    if (!frame) return this.fail('app-boundary', node, `message ${msgId} delivered outside any frame`);
    let slot = -1;
    for (let i = 0; i < frame.length; i++) {
      const c = frame[i]!;
      if (c.msgId === m.pgMsgId && (c.flags & CHUNK_LAST) !== 0) {
        slot = i;
        break;
      }
    }
    if (slot < 0)
      return this.fail(
        'app-boundary',
        node,
        `message ${msgId} (pg id ${m.pgMsgId}) of ${sender} completed in ring ${ringId.rep}.${ringId.seq} seq ${frameSeq}, a frame without its last chunk (chunks ${frame.map((c) => `${c.msgId}/${c.fragIndex}/${c.flags}`).join(' ')})`,
      );
    const started = this.firstRing.get(`${lastChunkMarker(sender, m.pgMsgId)}#${m.incarnation}`);
    if (started !== undefined && started !== ringKey(ringId) && !this.straddling.has(msgId)) {
      this.straddling.add(msgId);
      this.straddlingMessages++;
    }
    const prev = st.last.get(sender);
    if (prev && prev.epoch === st.epoch && m.index !== prev.index + 1) {
      const between = this.bySender.get(sender)!.slice(prev.index + 1, m.index);
      return this.fail(
        'app-no-loss',
        node,
        `delivered messages ${prev.msgId} then ${msgId} of ${sender} in one configuration; between them [${between.slice(0, 8)}] ${m.index > prev.index ? 'lost or merged' : 'out of order'}`,
      );
    }
    st.last.set(sender, { msgId, index: m.index, epoch: st.epoch });
    return super.delivered(
      node,
      sender,
      encodePayload(msgId, m.sender, PAYLOAD_HEADER),
      guarantee,
      ringId,
      (frameSeq * CHUNK_SLOTS + slot) >>> 0,
    );
  }

  /** The message's id, or -1 after recording a violation. */
  private identify(node: NodeId, st: NodeApp, sender: NodeId, payload: Uint8Array, ringId: RingId): number {
    const n = payload.length;
    if (n >= PAYLOAD_HEADER) {
      const d = decodePayload(payload);
      if (typeof d === 'string') return this.failId(node, `${n}-byte message from ${sender}: ${d}`);
      const m = this.app.get(d.msgId);
      if (!m) return this.failId(node, `message ${d.msgId} from ${sender} was never handed to pg`);
      if (m.length !== n)
        return this.failId(node, `message ${d.msgId} was sent with ${m.length} bytes, delivered with ${n}`);
      return d.msgId;
    }
    // Too short for an id: one of the sender's messages whose LAST chunk is in this frame,
    // not yet delivered here, of that length and pattern (the first such, in chunk order).
    const prev = st.last.get(sender);
    const senderIncarnation = ringId ? this.ringMembers.get(ringKey(ringId))?.get(sender) : undefined;
    for (const c of st.frame ?? []) {
      if ((c.flags & CHUNK_LAST) === 0) continue;
      for (const id of this.markers.get(lastChunkMarker(sender, c.msgId)) ?? []) {
        const m = this.app.get(id)!;
        if (m.sender !== sender || (prev && m.index <= prev.index)) continue;
        if (senderIncarnation !== undefined && m.incarnation !== senderIncarnation) continue;
        if (m.length === n && matchesShort(payload, id)) {
          this.shortDeliveries++;
          return id;
        }
      }
    }
    const head =
      payload.length >= 4 ? new DataView(payload.buffer, payload.byteOffset).getUint32(0, true) : -1;
    return this.failId(
      node,
      `${n}-byte message from ${sender} matches none of its messages${head === PAYLOAD_MAGIC ? ' (a truncated header)' : ''}`,
    );
  }

  private failId(node: NodeId, detail: string): number {
    this.fail('app-intact', node, detail);
    return -1;
  }

  private appOf(node: NodeId): NodeApp {
    const st = this.nodeApp.get(node);
    if (!st) throw new Error(`app checker: node ${node} was never started`);
    return st;
  }
}
