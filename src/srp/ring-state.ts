import type { RingId } from '../core/io.js';
import type { McastMessage } from './messages.js';
import { seqAdd, seqGt, seqLte } from './seq.js';
import { SeqQueue } from './seq-queue.js';

export interface StoredMessage {
  readonly msg: McastMessage;
  /** The encoded packet, kept for retransmission (null for messages recovered from a wrapper). */
  bytes: Uint8Array | null;
}

/**
 * The sort queue of one ring and its counters. A node keeps one for the ring it orders in;
 * during RECOVERY the old ring's is set aside (and restored if recovery fails).
 */
export class RingState {
  readonly queue = new SeqQueue<StoredMessage>();
  /** Every message up to here is held (no holes). */
  aru: number;
  /** The highest sequence number known to exist on this ring. */
  high: number;
  /** Delivered (or, for recovery wrappers, consumed) up to here. */
  highDelivered: number;
  /** Freed up to here: every member held these. */
  lastReleased: number;

  /** The ring whose sequence numbers index this queue. */
  readonly ringId: RingId;

  constructor(start: number, ringId: RingId) {
    this.ringId = ringId;
    this.aru = start;
    this.high = start;
    this.highDelivered = start;
    this.lastReleased = start;
  }

  /** True when seq may be stored: above what was freed and within the queue's slots. */
  inWindow(seq: number, queueSize: number): boolean {
    return seqGt(seq, this.lastReleased) && seqLte(seq, seqAdd(this.lastReleased, queueSize));
  }

  store(stored: StoredMessage): void {
    const seq = stored.msg.seq;
    this.queue.set(seq, stored);
    if (seqGt(seq, this.high)) this.high = seq;
    this.updateAru();
  }

  updateAru(): void {
    while (this.queue.has(seqAdd(this.aru, 1))) this.aru = seqAdd(this.aru, 1);
    if (seqGt(this.aru, this.high)) this.high = this.aru;
  }

  /** Frees every message up to limit (never past what was delivered: callers pass a min). */
  releaseUpTo(limit: number): void {
    while (seqGt(limit, this.lastReleased)) {
      this.lastReleased = seqAdd(this.lastReleased, 1);
      this.queue.delete(this.lastReleased);
    }
  }
}
