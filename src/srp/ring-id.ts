import type { RingId } from '../core/io.js';

export function ringIdEqual(a: RingId, b: RingId): boolean {
  return a.rep === b.rep && a.seq === b.seq;
}

export function ringIdText(r: RingId): string {
  return `${r.rep}.${r.seq}`;
}

/** Low 32 bits of a ring seq, for flight-recorder arguments. */
export function ringSeqLow(r: RingId): number {
  return r.seq % 0x100000000;
}

/** Each ring formed takes the highest ring seq seen plus this. */
export const RING_SEQ_STEP = 4;

/**
 * The highest ring seq a node adopts, holds or creates. Ring seqs travel as u53 and are stored
 * as JS numbers, so one near 2^53 would make the next ring id (+RING_SEQ_STEP) or a restarted
 * node's id (+1) unsafe; joins and commit tokens beyond it are refused. Honest rings reach it
 * only after ~2^51 formations, so only a corrupt or forged seq ever meets it.
 */
export const RING_SEQ_MAX = Number.MAX_SAFE_INTEGER - RING_SEQ_STEP;

/** High bits of a ring seq (above the low 32), for flight-recorder arguments. */
export function ringSeqHigh(seq: number): number {
  return Math.floor(seq / 0x100000000);
}
