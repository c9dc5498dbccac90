import { DecodeError, type DecodeErrorCode } from './decode-error.js';

/**
 * A bounds-checked little-endian reader. Every read checks the remaining length first
 * and throws DecodeError (never RangeError) when the input is short.
 *
 * Integers are assembled from bytes rather than read through a DataView: a reader is made
 * per packet, and a DataView per packet was a measurable share of the simulator's time.
 */
export class WireReader {
  private view: DataView | undefined;
  offset: number;

  constructor(
    readonly bytes: Uint8Array,
    readonly what: string,
    start = 0,
  ) {
    this.offset = start;
  }

  get remaining(): number {
    return this.bytes.length - this.offset;
  }

  fail(code: DecodeErrorCode, at = this.offset): never {
    throw new DecodeError(code, this.what, at);
  }

  need(n: number): void {
    if (n < 0 || this.offset + n > this.bytes.length) this.fail('truncated');
  }

  u8(): number {
    this.need(1);
    return this.bytes[this.offset++]!;
  }

  u16(): number {
    this.need(2);
    const b = this.bytes;
    const o = this.offset;
    this.offset = o + 2;
    return b[o]! | (b[o + 1]! << 8);
  }

  u32(): number {
    this.need(4);
    const b = this.bytes;
    const o = this.offset;
    this.offset = o + 4;
    return (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
  }

  i32(): number {
    this.need(4);
    const b = this.bytes;
    const o = this.offset;
    this.offset = o + 4;
    return b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24);
  }

  /** A u64 that must fit in a JS number without loss (ring sequence numbers). */
  u53(): number {
    this.need(8);
    const b = this.bytes;
    const o = this.offset;
    const lo = (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
    const hi = (b[o + 4]! | (b[o + 5]! << 8) | (b[o + 6]! << 16) | (b[o + 7]! << 24)) >>> 0;
    if (hi > 0x1fffff) this.fail('bad-value');
    this.offset = o + 8;
    return hi * 0x100000000 + lo;
  }

  f64(): number {
    this.need(8);
    const bytes = this.bytes;
    this.view ??= new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const v = this.view.getFloat64(this.offset, true);
    this.offset += 8;
    return v;
  }

  /** A view (not a copy) of the next n bytes. */
  bytesView(n: number): Uint8Array {
    this.need(n);
    const v = this.bytes.subarray(this.offset, this.offset + n);
    this.offset += n;
    return v;
  }

  /** Throws unless every byte was consumed. */
  end(): void {
    if (this.offset !== this.bytes.length) this.fail('trailing-bytes');
  }
}
