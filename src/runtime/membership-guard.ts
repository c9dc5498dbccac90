/**
 * The daemon's static-membership guard in front of srp: a packet whose srp header names a
 * sender outside the configured node list, and a join or commit token that names such a
 * node or carries a ring seq more than 2^32 beyond any this node knows of, are dropped
 * (counted and recorded) before srp sees them.
 *
 * Why here: membership is static (docs/config.md), so such a packet is corrupt or forged
 * (plain mode authenticates nothing; the envelope vouches only for its own sender field, not
 * for the srp header's). srp itself adopts every node id a join names and the sender of
 * every merge-detect, and every ring seq a join names; too many ids made its own next join
 * unencodable and a ring seq near 2^53 made the next ring id unsafe, and either stopped the
 * node (reported to the srp owner). Only the two membership messages are decoded here,
 * which are rare outside reconfiguration; the sender check reads one header field.
 */
import type { NodeId } from '../core/io.js';
import { MAGIC, totemCodec, VERSION } from '../srp/codec.js';
import { MessageType, type SrpMessage } from '../srp/messages.js';
import { DecodeError } from '../wire/decode-error.js';

/** srp header: u16 magic, u8 version, u8 type, u8 flags, u32 sender (little-endian). */
const TYPE_OFFSET = 3;
const SENDER_OFFSET = 5;
const HEADER_BYTES = 9;
/**
 * How far beyond the highest ring seq this node knows a membership message may be. Honest
 * ring seqs only ever grow by 4 per ring formed from the highest one seen, so members stay
 * close together; a fixed ceiling instead would lock out an honest node that had been
 * pushed near it, forever.
 */
export const RING_SEQ_HORIZON = 2 ** 32;

export const GUARD_REASONS = ['unknown-member', 'ring-seq-too-high', 'unknown-sender'] as const;
export type GuardReason = (typeof GUARD_REASONS)[number];

export class MembershipGuard {
  readonly dropped: Record<GuardReason, number> = {
    'unknown-member': 0,
    'ring-seq-too-high': 0,
    'unknown-sender': 0,
  };
  private readonly configured: ReadonlySet<NodeId>;
  /** The highest ring seq passed on or held by this node. */
  private known: number;

  constructor(configured: Iterable<NodeId>, persistedRingSeq: number) {
    this.configured = new Set(configured);
    this.known = persistedRingSeq;
  }

  /**
   * Why this packet must not reach srp, or undefined to pass it on (srp judges everything
   * else). `ownRingSeq` is the seq of the ring this node is in now.
   */
  check(packet: Uint8Array, ownRingSeq: number): GuardReason | undefined {
    // Not an srp header at all: srp's decoder counts it (by reason) as a decode error.
    if (packet.length < HEADER_BYTES || packet[0] !== (MAGIC & 0xff) || packet[1] !== MAGIC >> 8)
      return undefined;
    if (packet[2] !== VERSION) return undefined;
    const sender =
      (packet[SENDER_OFFSET]! |
        (packet[SENDER_OFFSET + 1]! << 8) |
        (packet[SENDER_OFFSET + 2]! << 16) |
        (packet[SENDER_OFFSET + 3]! << 24)) >>>
      0;
    if (!this.configured.has(sender)) {
      this.dropped['unknown-sender']++;
      return 'unknown-sender';
    }
    const type = packet[TYPE_OFFSET];
    if (type !== MessageType.Join && type !== MessageType.CommitToken) return undefined;
    let msg: SrpMessage;
    try {
      msg = totemCodec.decode(packet);
    } catch (err) {
      if (err instanceof DecodeError) return undefined; // srp counts it as a decode error
      throw err;
    }
    if (ownRingSeq > this.known) this.known = ownRingSeq;
    const reason = this.judge(msg);
    if (reason) this.dropped[reason]++;
    return reason;
  }

  private judge(msg: SrpMessage): GuardReason | undefined {
    const listed = (ids: readonly NodeId[]): boolean => ids.every((id) => this.configured.has(id));
    let highest: number;
    if (msg.type === MessageType.Join) {
      if (!listed(msg.procList) || !listed(msg.failedList)) return 'unknown-member';
      highest = msg.ringSeq;
    } else if (msg.type === MessageType.CommitToken) {
      if (!listed(msg.members) || !this.configured.has(msg.ringId.rep)) return 'unknown-member';
      highest = msg.entries.reduce((m, e) => Math.max(m, e.ringId.seq), msg.ringId.seq);
    } else {
      return undefined;
    }
    if (highest > this.known + RING_SEQ_HORIZON) return 'ring-seq-too-high';
    if (highest > this.known) this.known = highest;
    return undefined;
  }
}
