/**
 * The pg frame: the payload of one ordered multicast, carrying chunks of one or more messages.
 *
 * Every chunk says on its own which message it belongs to and where it sits in it, so a
 * receiver never has to infer a message boundary from anything else:
 *
 * ```
 * frame  = crc32 u32 (over every byte after it) · version u8 (1) · reserved u8 (0) · chunkCount u16 · chunk*
 * chunk  = flags u8 (bit 0 FIRST, bit 1 LAST, others 0) · msgId u32 ·
 *          FIRST:     totalLen u32 · groupLen u8 · group bytes
 *          not FIRST: fragIndex u32 (>= 1)
 *          dataLen u32 · data
 * ```
 *
 * All integers little-endian. Rules the decoder enforces (a frame breaking one is refused whole):
 * - a FIRST+LAST chunk carries the whole message: dataLen == totalLen;
 * - a FIRST chunk without LAST carries less than the message: dataLen < totalLen;
 * - only the first chunk of a frame may continue an earlier message (not FIRST), and only the
 *   last chunk of a frame may leave its message unfinished (not LAST): the packer never
 *   interleaves two unfinished messages of one sender.
 */

import { WireReader } from '../wire/reader.js';
import { assert } from './assert.js';
import { crc32 } from './checksum.js';

export const FRAME_VERSION = 1;
/** crc32 u32 · version u8 · reserved u8 · chunkCount u16 */
export const FRAME_HEADER_BYTES = 8;
export const CHUNK_FIRST = 1;
export const CHUNK_LAST = 2;
export const MAX_GROUP_BYTES = 255;
/** flags u8 · msgId u32 · fragIndex u32 · dataLen u32 */
export const CONTINUATION_HEADER_BYTES = 13;

/** flags u8 · msgId u32 · totalLen u32 · groupLen u8 · group · dataLen u32 */
export function firstChunkHeaderBytes(groupLen: number): number {
  return 14 + groupLen;
}

/** The smallest frame that still holds a first chunk with the longest group name and one data byte. */
export const MIN_FRAME_BYTES = FRAME_HEADER_BYTES + firstChunkHeaderBytes(MAX_GROUP_BYTES) + 1;

export interface Chunk {
  readonly flags: number;
  readonly msgId: number;
  /** 0 for a FIRST chunk. */
  readonly fragIndex: number;
  /** The whole message's length, declared by its FIRST chunk; -1 on continuations. */
  readonly totalLen: number;
  /** Empty on continuations. A view into the frame. */
  readonly group: Uint8Array;
  /** A view into the frame. */
  readonly data: Uint8Array;
}

const NO_BYTES = new Uint8Array(0);
const WHAT = 'pg frame';

/** Decodes and validates one frame. Throws only DecodeError. */
export function decodeFrame(bytes: Uint8Array): Chunk[] {
  const r = new WireReader(bytes, WHAT);
  const sealed = r.u32();
  const version = r.u8();
  if (version !== FRAME_VERSION) r.fail('bad-version', 4);
  if (r.u8() !== 0) r.fail('bad-value', 5);
  const count = r.u16();
  if (count === 0) r.fail('bad-count', 6);
  if (crc32(bytes, 4) !== sealed) r.fail('bad-value', 0);
  const chunks: Chunk[] = [];
  for (let i = 0; i < count; i++) {
    const at = r.offset;
    const flags = r.u8();
    if ((flags & ~(CHUNK_FIRST | CHUNK_LAST)) !== 0) r.fail('bad-value', at);
    const first = (flags & CHUNK_FIRST) !== 0;
    const last = (flags & CHUNK_LAST) !== 0;
    if (!first && i !== 0) r.fail('bad-value', at);
    if (!last && i !== count - 1) r.fail('bad-value', at);
    const msgId = r.u32();
    let fragIndex = 0;
    let totalLen = -1;
    let group: Uint8Array = NO_BYTES;
    if (first) {
      totalLen = r.u32();
      group = r.bytesView(r.u8());
    } else {
      fragIndex = r.u32();
      if (fragIndex === 0) r.fail('bad-value', r.offset - 4);
    }
    const dataLen = r.u32();
    const data = r.bytesView(dataLen);
    if (first && (last ? dataLen !== totalLen : dataLen >= totalLen)) r.fail('bad-length', at);
    chunks.push({ flags, msgId, fragIndex, totalLen, group, data });
  }
  r.end();
  return chunks;
}

/**
 * Builds one frame in place. The packer decides every chunk's size and flags; the builder
 * only writes them and refuses (with an assertion) to write past the frame's capacity.
 */
export class FrameBuilder {
  private readonly buf: Uint8Array;
  private readonly view: DataView;
  private used = FRAME_HEADER_BYTES;
  private chunks = 0;
  /** Data bytes the open chunk still expects. */
  private owedData = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < MIN_FRAME_BYTES || capacity > 0xffffffff) {
      throw new RangeError(`pg frame capacity must be an integer >= ${MIN_FRAME_BYTES}, got ${capacity}`);
    }
    this.buf = new Uint8Array(capacity);
    this.view = new DataView(this.buf.buffer);
  }

  get bytesUsed(): number {
    return this.used;
  }

  get chunkCount(): number {
    return this.chunks;
  }

  get isEmpty(): boolean {
    return this.chunks === 0;
  }

  /** Writes a chunk header; exactly dataLen bytes must follow through appendData. */
  startChunk(
    flags: number,
    msgId: number,
    fragIndexOrTotal: number,
    group: Uint8Array,
    dataLen: number,
  ): void {
    assert(this.owedData === 0, 'frame builder: previous chunk still owes data');
    assert(this.chunks < 0xffff, 'frame builder: too many chunks in one frame');
    const first = (flags & CHUNK_FIRST) !== 0;
    const header = first ? firstChunkHeaderBytes(group.length) : CONTINUATION_HEADER_BYTES;
    assert(this.used + header + dataLen <= this.capacity, 'frame builder: chunk overflows the frame');
    const v = this.view;
    let at = this.used;
    v.setUint8(at, flags);
    v.setUint32(at + 1, msgId, true);
    v.setUint32(at + 5, fragIndexOrTotal, true);
    at += 9;
    if (first) {
      v.setUint8(at, group.length);
      this.buf.set(group, at + 1);
      at += 1 + group.length;
    }
    v.setUint32(at, dataLen, true);
    this.used = at + 4;
    this.owedData = dataLen;
    this.chunks++;
  }

  appendData(bytes: Uint8Array): void {
    assert(bytes.length <= this.owedData, 'frame builder: more data than the chunk declared');
    this.buf.set(bytes, this.used);
    this.used += bytes.length;
    this.owedData -= bytes.length;
  }

  /** Seals the frame, returns a copy of it and starts an empty one. */
  finish(): Uint8Array {
    assert(this.chunks > 0, 'frame builder: empty frame');
    assert(this.owedData === 0, 'frame builder: last chunk still owes data');
    this.view.setUint8(4, FRAME_VERSION);
    this.view.setUint8(5, 0);
    this.view.setUint16(6, this.chunks, true);
    this.view.setUint32(0, crc32(this.buf, 4, this.used), true);
    const frame = this.buf.slice(0, this.used);
    this.used = FRAME_HEADER_BYTES;
    this.chunks = 0;
    return frame;
  }
}

/** Recomputes a frame's seal after deliberate editing (tests that forge structural faults). */
export function resealFrame(frame: Uint8Array): void {
  new DataView(frame.buffer, frame.byteOffset, frame.byteLength).setUint32(0, crc32(frame, 4), true);
}
