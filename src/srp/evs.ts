import { Guarantee, type NodeId, type RingId } from '../core/io.js';
import type { CommitEntry, McastMessage } from './messages.js';
import { setHas } from './node-set.js';
import { ringIdEqual } from './ring-id.js';
import type { StoredMessage } from './ring-state.js';
import { seqAdd, seqDiff, seqGt, seqLt, seqMax, seqMin } from './seq.js';

/**
 * The pure parts of extended virtual synchrony: what a node writes into the commit token,
 * what it learns from the token's second visit, and in which order it delivers the old
 * ring's messages around the transitional configuration.
 */

/**
 * Writes my entry at `index` and applies the received_flg rule (whitetank/corosync 2008 fix):
 * holding everything I know of is not enough, a peer of the same old ring may hold more. Every
 * entry so far of my old ring whose aru is below the highest such aru loses its flag, so that
 * recovery re-originates what the laggards miss.
 */
export function fillCommitEntry(
  entries: readonly CommitEntry[],
  index: number,
  mine: CommitEntry,
): CommitEntry[] {
  const out = entries.slice();
  out[index] = mine;
  let highAru = mine.aru;
  for (let i = 0; i <= index; i++) {
    const e = out[i]!;
    if (ringIdEqual(e.ringId, mine.ringId) && seqGt(e.aru, highAru)) highAru = e.aru;
  }
  for (let i = 0; i <= index; i++) {
    const e = out[i]!;
    if (ringIdEqual(e.ringId, mine.ringId) && seqLt(e.aru, highAru)) out[i] = { ...e, receivedFlg: false };
  }
  return out;
}

export interface TransitionalView {
  /** Members of the new ring that come from my old ring: the transitional configuration. */
  readonly members: NodeId[];
  /** The lowest aru among them: everything above it may be missing somewhere. */
  readonly lowRingAru: number;
  /** The highest seq any of them delivered in the old regular configuration. */
  readonly highRingDelivered: number;
  /** Some member lacks old-ring messages that others hold: re-originate them in RECOVERY. */
  readonly needsRecovery: boolean;
}

/** Reads the commit token's completed entries (second visit) from my old ring's point of view. */
export function transitionalView(
  members: readonly NodeId[],
  entries: readonly CommitEntry[],
  oldRingId: RingId,
  oldMembers: readonly NodeId[],
): TransitionalView {
  const trans: NodeId[] = [];
  const transEntries: CommitEntry[] = [];
  members.forEach((id, i) => {
    const e = entries[i]!;
    if (ringIdEqual(e.ringId, oldRingId) && setHas(oldMembers, id)) {
      trans.push(id);
      transEntries.push(e);
    }
  });
  if (transEntries.length === 0)
    return { members: trans, lowRingAru: 0, highRingDelivered: 0, needsRecovery: false };
  let lowRingAru = transEntries[0]!.aru;
  let highRingDelivered = transEntries[0]!.highDelivered;
  for (const e of transEntries) {
    lowRingAru = seqMin(lowRingAru, e.aru);
    highRingDelivered = seqMax(highRingDelivered, e.highDelivered);
  }
  return {
    members: trans,
    lowRingAru,
    highRingDelivered,
    needsRecovery: transEntries.some((e) => !e.receivedFlg),
  };
}

export interface OldRingDeliveryPlan {
  /** Still delivered in the old regular configuration, before the transitional one. */
  readonly beforeTransitional: McastMessage[];
  /** Delivered in the transitional configuration. */
  readonly inTransitional: McastMessage[];
  /** Past a hole and from a node outside the transitional configuration: never delivered. */
  readonly skipped: McastMessage[];
}

/**
 * Orders the old ring's undelivered messages (Totem paper, not corosync's shortcut).
 *
 * Before the transitional configuration: the contiguous run after what I delivered, stopping
 * at the first safe message above what any transitional member delivered (its all-members
 * guarantee cannot be known). Inside the transitional configuration: the rest, in seq order;
 * past the first hole only messages of deliver_memb (a message after a hole from a node that
 * left could depend on the missing one). Every transitional member holds the same messages
 * after recovery and computes the same highRingDelivered, so all cut the stream identically.
 */
export function planOldRingDelivery(
  queue: { get(seq: number): StoredMessage | undefined },
  highDelivered: number,
  high: number,
  highRingDelivered: number,
  deliverMembers: readonly NodeId[],
): OldRingDeliveryPlan {
  const beforeTransitional: McastMessage[] = [];
  const inTransitional: McastMessage[] = [];
  const skipped: McastMessage[] = [];
  let at = highDelivered;
  for (;;) {
    const next = seqAdd(at, 1);
    const stored = queue.get(next);
    if (!stored) break;
    if (stored.msg.guarantee === Guarantee.Safe && seqGt(next, highRingDelivered)) break;
    // A recovery wrapper of the old ring is a placeholder, not an application message.
    if (!stored.msg.encapsulated) beforeTransitional.push(stored.msg);
    at = next;
  }
  let contiguous = true;
  const span = seqDiff(at, high);
  for (let i = 1; i <= span; i++) {
    const stored = queue.get(seqAdd(at, i));
    if (!stored) {
      contiguous = false;
      continue;
    }
    if (stored.msg.encapsulated) continue;
    if (contiguous || setHas(deliverMembers, stored.msg.origin)) inTransitional.push(stored.msg);
    else skipped.push(stored.msg);
  }
  return { beforeTransitional, inTransitional, skipped };
}
