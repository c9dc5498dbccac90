import { DecodeError, type DecodeErrorCode } from './decode-error.js';

/**
 * A bounds-checked little-endian reader. Every read checks the remaining length first
 * and throws DecodeError (never RangeError) when the input is short.
 */
export class WireReader {
  private readonly view: DataView;
  offset: number;

  constructor(
    readonly bytes: Uint8Array,
    readonly what: string,
    start = 0,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
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
    return this.view.getUint8(this.offset++);
  }

  u16(): number {
    this.need(2);
    const v = this.view.getUint16(this.offset, true);
    this.offset += 2;
    return v;
  }

  u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.offset, true);
    this.offset += 4;
    return v;
  }

  i32(): number {
    this.need(4);
    const v = this.view.getInt32(this.offset, true);
    this.offset += 4;
    return v;
  }

  /** A u64 that must fit in a JS number without loss (ring sequence numbers). */
  u53(): number {
    this.need(8);
    const lo = this.view.getUint32(this.offset, true);
    const hi = this.view.getUint32(this.offset + 4, true);
    if (hi > 0x1fffff) this.fail('bad-value');
    this.offset += 8;
    return hi * 0x100000000 + lo;
  }

  f64(): number {
    this.need(8);
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
