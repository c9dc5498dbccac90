/**
 * A little-endian writer into a buffer that grows as needed. Integers are stored byte by
 * byte (no DataView to make per writer or per growth); `reset()` lets a hot encoder keep
 * one writer and pay only for the copy `finish()` returns.
 */
export class WireWriter {
  private buf: Uint8Array;
  offset = 0;

  constructor(initial = 256) {
    this.buf = new Uint8Array(Math.max(initial, 8));
  }

  private room(n: number): void {
    if (this.offset + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.offset + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.offset));
    this.buf = next;
  }

  /** Starts over (keeping the buffer): what was written is forgotten. */
  reset(): this {
    this.offset = 0;
    return this;
  }

  u8(v: number): this {
    this.room(1);
    this.buf[this.offset++] = v;
    return this;
  }

  u16(v: number): this {
    this.room(2);
    this.put16(this.offset, v);
    this.offset += 2;
    return this;
  }

  u32(v: number): this {
    this.room(4);
    this.put32(this.offset, v);
    this.offset += 4;
    return this;
  }

  i32(v: number): this {
    this.room(4);
    this.put32(this.offset, v);
    this.offset += 4;
    return this;
  }

  /** A non-negative integer below 2^53 as a u64. */
  u53(v: number): this {
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`u53 out of range: ${v}`);
    this.room(8);
    this.put32(this.offset, v % 0x100000000);
    this.put32(this.offset + 4, Math.floor(v / 0x100000000));
    this.offset += 8;
    return this;
  }

  f64(v: number): this {
    this.room(8);
    new DataView(this.buf.buffer, this.buf.byteOffset + this.offset, 8).setFloat64(0, v, true);
    this.offset += 8;
    return this;
  }

  bytes(b: Uint8Array): this {
    this.room(b.length);
    this.buf.set(b, this.offset);
    this.offset += b.length;
    return this;
  }

  /** Overwrites a u16 at an earlier position (lengths known only at the end). */
  patchU16(at: number, v: number): void {
    if (at < 0 || at + 2 > this.offset)
      throw new RangeError(`patchU16 at ${at} outside the ${this.offset} bytes written`);
    this.put16(at, v);
  }

  patchU32(at: number, v: number): void {
    if (at < 0 || at + 4 > this.offset)
      throw new RangeError(`patchU32 at ${at} outside the ${this.offset} bytes written`);
    this.put32(at, v);
  }

  /** The bytes written so far (a copy, so the writer can be reused). */
  finish(): Uint8Array {
    return this.buf.slice(0, this.offset);
  }

  private put16(at: number, v: number): void {
    const b = this.buf;
    b[at] = v;
    b[at + 1] = v >>> 8;
  }

  private put32(at: number, v: number): void {
    const b = this.buf;
    b[at] = v;
    b[at + 1] = v >>> 8;
    b[at + 2] = v >>> 16;
    b[at + 3] = v >>> 24;
  }
}
