/**
 * CRC-32 (IEEE 802.3, the zlib/PNG one) over a frame.
 *
 * pg seals every frame with it so that a frame damaged between the sender's packer and a
 * receiver's assembler (a buffer-reuse bug in a lower layer, a faulty NIC with crypto off)
 * is refused as a typed decode error instead of being assembled into a wrong message.
 *
 * zlib.crc32 (Node >= 20.15) is a pure function, about five times faster than the table
 * version below, which stays as the fallback for older Node 20 releases and as the reference
 * the tests compare it with.
 */

import * as zlib from 'node:zlib';

const TABLE: Uint32Array = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** Table-driven CRC-32 of bytes[start, end). */
export function crc32Portable(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let crc = 0xffffffff;
  for (let i = start; i < end; i++) crc = TABLE[(crc ^ bytes[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

type NativeCrc32 = (data: Uint8Array, value?: number) => number;
const native = (zlib as unknown as { crc32?: NativeCrc32 }).crc32;

/** CRC-32 of bytes[start, end). */
export const crc32: (bytes: Uint8Array, start?: number, end?: number) => number =
  typeof native === 'function'
    ? (bytes, start = 0, end = bytes.length) => native(bytes.subarray(start, end)) >>> 0
    : crc32Portable;
