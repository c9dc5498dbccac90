/**
 * 96-bit AEAD nonces that never repeat under one key.
 *
 * A nonce is an 8-byte prefix followed by a 4-byte big-endian counter. The prefix is drawn
 * at random when the source is created and again whenever the counter has used all 2^32
 * values, so within one prefix the counter makes every nonce distinct. Under our key
 * scheme each sender node has its own key (crypto.ts), so a repeat needs the same sender to
 * draw the same 64-bit prefix twice over the key's lifetime (restarts plus counter wraps).
 * With P prefixes drawn, the chance of that is below P²/2^65: for a million restarts of
 * one node it is under 3·10^-8. The counter never wraps back onto a prefix in use: the
 * prefix is replaced (and must differ from the last one) before any counter value returns.
 *
 * Randomness is fine here: this is the runtime, not the protocol core.
 */
export type RandomSource = (size: number) => Uint8Array;

const COUNTER_LIMIT = 0x1_0000_0000;

export class NonceSource {
  private prefix: Uint8Array;
  private counter = 0;
  /** How many prefixes have been drawn (1 after construction). */
  prefixes = 1;

  constructor(
    private readonly random: RandomSource,
    /** Values per prefix; lower only in tests, to exercise the refresh. */
    private readonly limit = COUNTER_LIMIT,
  ) {
    if (!(limit >= 1 && limit <= COUNTER_LIMIT)) throw new RangeError(`nonce: counter limit ${limit}`);
    this.prefix = this.draw();
  }

  /** Writes the next 12-byte nonce into `out` at `offset`. */
  next(out: Uint8Array, offset: number): void {
    if (this.counter >= this.limit) {
      const old = this.prefix;
      let fresh = this.draw();
      while (sameBytes(fresh, old)) fresh = this.draw();
      this.prefix = fresh;
      this.prefixes++;
      this.counter = 0;
    }
    out.set(this.prefix, offset);
    const c = this.counter++;
    out[offset + 8] = c >>> 24;
    out[offset + 9] = (c >>> 16) & 0xff;
    out[offset + 10] = (c >>> 8) & 0xff;
    out[offset + 11] = c & 0xff;
  }

  private draw(): Uint8Array {
    const bytes = this.random(8);
    if (bytes.length !== 8) throw new RangeError(`nonce: random source gave ${bytes.length} bytes, wanted 8`);
    return Uint8Array.from(bytes);
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
