/**
 * u32 ring sequence numbers with rollover-safe (serial number) comparison.
 *
 * Two values are compared by the sign of their 32-bit difference, so ordering holds as long
 * as the values compared are less than 2^31 apart — far more than any sort queue holds.
 */

export const U32_MASK = 0xffffffff;

export function seqAdd(a: number, n: number): number {
  return (a + n) >>> 0;
}

/** Signed distance b - a in serial arithmetic. */
export function seqDiff(a: number, b: number): number {
  return (b - a) | 0;
}

export function seqLt(a: number, b: number): boolean {
  return ((a - b) | 0) < 0;
}

export function seqLte(a: number, b: number): boolean {
  return ((a - b) | 0) <= 0;
}

export function seqGt(a: number, b: number): boolean {
  return ((a - b) | 0) > 0;
}

export function seqGte(a: number, b: number): boolean {
  return ((a - b) | 0) >= 0;
}

export function seqMin(a: number, b: number): number {
  return seqLt(a, b) ? a : b;
}

export function seqMax(a: number, b: number): number {
  return seqGt(a, b) ? a : b;
}
