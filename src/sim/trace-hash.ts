/**
 * A running 64-bit fingerprint (two FNV-1a lanes with different offsets) over the numbers
 * of every observable event of a run. Equal seeds must give equal hashes.
 */
export class TraceHash {
  private lo = 0x811c9dc5;
  private hi = 0x6c62272e;

  /** Mixes one number in (as its integer part, low and high 32 bits, and its fraction). */
  add(value: number): void {
    const whole = Math.floor(value);
    this.mix32(whole | 0);
    this.mix32(Math.floor(whole / 4294967296) | 0);
    const frac = value - whole;
    if (frac !== 0) this.mix32(Math.floor(frac * 4294967296) | 0);
  }

  addAll(...values: number[]): void {
    for (const v of values) this.add(v);
  }

  /** The four bytes of w, low first, through both lanes (unrolled: this runs per event). */
  private mix32(w: number): void {
    let lo = Math.imul(this.lo ^ (w & 0xff), 0x01000193);
    let hi = Math.imul(this.hi ^ (w & 0xff), 0x01000193) ^ (lo >>> 15);
    lo = Math.imul(lo ^ ((w >>> 8) & 0xff), 0x01000193);
    hi = Math.imul(hi ^ ((w >>> 8) & 0xff), 0x01000193) ^ (lo >>> 15);
    lo = Math.imul(lo ^ ((w >>> 16) & 0xff), 0x01000193);
    hi = Math.imul(hi ^ ((w >>> 16) & 0xff), 0x01000193) ^ (lo >>> 15);
    lo = Math.imul(lo ^ (w >>> 24), 0x01000193);
    hi = Math.imul(hi ^ (w >>> 24), 0x01000193) ^ (lo >>> 15);
    this.lo = lo;
    this.hi = hi;
  }

  /** Sixteen hex digits. */
  hex(): string {
    return (this.hi >>> 0).toString(16).padStart(8, '0') + (this.lo >>> 0).toString(16).padStart(8, '0');
  }
}
