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

  private mix32(w: number): void {
    let lo = this.lo;
    let hi = this.hi;
    for (let k = 0; k < 4; k++) {
      const byte = (w >>> (k * 8)) & 0xff;
      lo = Math.imul(lo ^ byte, 0x01000193);
      hi = Math.imul(hi ^ byte, 0x01000193) ^ (lo >>> 15);
    }
    this.lo = lo;
    this.hi = hi;
  }

  /** Sixteen hex digits. */
  hex(): string {
    return (this.hi >>> 0).toString(16).padStart(8, '0') + (this.lo >>> 0).toString(16).padStart(8, '0');
  }
}
