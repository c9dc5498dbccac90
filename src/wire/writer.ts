/** A little-endian writer into a buffer that grows as needed. */
export class WireWriter {
  private buf: Uint8Array;
  private view: DataView;
  offset = 0;

  constructor(initial = 256) {
    this.buf = new Uint8Array(initial);
    this.view = new DataView(this.buf.buffer);
  }

  private room(n: number): void {
    if (this.offset + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.offset + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.offset));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  u8(v: number): this {
    this.room(1);
    this.view.setUint8(this.offset++, v);
    return this;
  }

  u16(v: number): this {
    this.room(2);
    this.view.setUint16(this.offset, v, true);
    this.offset += 2;
    return this;
  }

  u32(v: number): this {
    this.room(4);
    this.view.setUint32(this.offset, v >>> 0, true);
    this.offset += 4;
    return this;
  }

  i32(v: number): this {
    this.room(4);
    this.view.setInt32(this.offset, v, true);
    this.offset += 4;
    return this;
  }

  /** A non-negative integer below 2^53 as a u64. */
  u53(v: number): this {
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`u53 out of range: ${v}`);
    this.room(8);
    this.view.setUint32(this.offset, v % 0x100000000, true);
    this.view.setUint32(this.offset + 4, Math.floor(v / 0x100000000), true);
    this.offset += 8;
    return this;
  }

  f64(v: number): this {
    this.room(8);
    this.view.setFloat64(this.offset, v, true);
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
    this.view.setUint16(at, v, true);
  }

  patchU32(at: number, v: number): void {
    this.view.setUint32(at, v >>> 0, true);
  }

  /** The bytes written so far (a copy, so the writer can be reused). */
  finish(): Uint8Array {
    return this.buf.slice(0, this.offset);
  }
}
