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
