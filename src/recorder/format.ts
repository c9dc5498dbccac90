/**
 * The ring file layout. One file per process (or per simulated node):
 *
 *   [0, 4 KiB)          header (fields below, little-endian)
 *   [4 KiB, 68 KiB)     registry JSON: u32 length, then UTF-8 bytes
 *   [68 KiB, 128 KiB)   string table: u32 count (committed last), u32 used bytes,
 *                       then entries [u16 length][UTF-8 bytes]; string id = index + 1
 *   [128 KiB, ...)      slots: slotCount x 32 bytes, slotCount a power of two
 *
 * Slot (32 bytes): u32 seq (the commit word: written 0 first and its real value last) ·
 * u16 event · u16 flags · f64 ts (driver time, ms) · 4 x i32 args.
 * A slot is valid when seq != 0 and seq mod slotCount == its index.
 */

export const MAGIC = 'TOTEMFR1';
export const FORMAT_VERSION = 1;
export const HEADER_SIZE = 4096;
export const REGISTRY_OFFSET = 4096;
export const REGISTRY_SIZE = 64 * 1024;
export const STRINGS_OFFSET = REGISTRY_OFFSET + REGISTRY_SIZE;
export const STRINGS_SIZE = 60 * 1024;
export const SLOTS_OFFSET = STRINGS_OFFSET + STRINGS_SIZE;
export const SLOT_SIZE = 32;
/** Words (i32) per slot. */
export const SLOT_WORDS = SLOT_SIZE / 4;
export const MAX_STRING_BYTES = 1024;

/** Slot flag: the next slot is a continuation carrying args 4..7. */
export const FLAG_WIDE = 1;

/** Header flag: timestamps are a simulator's virtual clock. */
export const HFLAG_VIRTUAL_CLOCK = 1;
/** Header flag: the ring lives in a memory-mapped file (survives kill -9). */
export const HFLAG_MAPPED = 2;

/** Header field byte offsets. */
export const H = {
  magic: 0,
  version: 8,
  headerSize: 12,
  slotSize: 16,
  slotCount: 20,
  registryOffset: 24,
  stringsOffset: 28,
  slotsOffset: 32,
  nodeId: 36,
  pid: 40,
  flags: 44,
  startWallMs: 48,
  anchorDriverMs: 56,
  anchorMonoNs: 64,
  anchorWallMs: 72,
  registryHash: 80,
  headerChecksum: 84,
  /** Written after the checksum: 1 once the ring was closed cleanly. */
  closed: 88,
  labelLength: 92,
  label: 96,
} as const;
export const MAX_LABEL_BYTES = 256;
/** The checksum covers header bytes [0, H.headerChecksum). */
export const CHECKSUMMED_BYTES = H.headerChecksum;

export function fileSizeFor(slotCount: number): number {
  return SLOTS_OFFSET + slotCount * SLOT_SIZE;
}

export function isPowerOfTwo(n: number): boolean {
  return Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;
}

/** FNV-1a, 32 bits: cheap and good enough to notice a damaged header. */
export function fnv1a(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) {
    h ^= bytes[i]!;
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Where the clock of a ring is tied to the host's clocks, for merging rings in time. */
export interface ClockAnchor {
  /** The driver's clock (the value records carry as ts) at the anchor instant, ms. */
  readonly driverMs: number;
  /** CLOCK_MONOTONIC at the same instant, ns (shared by all processes of a host). */
  readonly monoNs: number;
  /** Wall clock at the same instant, ms since the epoch. */
  readonly wallMs: number;
}

export interface HeaderFields {
  readonly slotCount: number;
  readonly nodeId: number;
  readonly pid: number;
  readonly flags: number;
  readonly startWallMs: number;
  readonly anchor: ClockAnchor;
  readonly registryHash: number;
  readonly label: string;
}

const encoder = new TextEncoder();

export function writeHeader(buf: ArrayBuffer, f: HeaderFields): void {
  const view = new DataView(buf);
  const bytes = new Uint8Array(buf);
  bytes.set(encoder.encode(MAGIC), H.magic);
  view.setUint32(H.version, FORMAT_VERSION, true);
  view.setUint32(H.headerSize, HEADER_SIZE, true);
  view.setUint32(H.slotSize, SLOT_SIZE, true);
  view.setUint32(H.slotCount, f.slotCount, true);
  view.setUint32(H.registryOffset, REGISTRY_OFFSET, true);
  view.setUint32(H.stringsOffset, STRINGS_OFFSET, true);
  view.setUint32(H.slotsOffset, SLOTS_OFFSET, true);
  view.setUint32(H.nodeId, f.nodeId >>> 0, true);
  view.setUint32(H.pid, f.pid >>> 0, true);
  view.setUint32(H.flags, f.flags, true);
  view.setFloat64(H.startWallMs, f.startWallMs, true);
  view.setFloat64(H.anchorDriverMs, f.anchor.driverMs, true);
  view.setFloat64(H.anchorMonoNs, f.anchor.monoNs, true);
  view.setFloat64(H.anchorWallMs, f.anchor.wallMs, true);
  view.setUint32(H.registryHash, f.registryHash, true);
  view.setUint32(H.headerChecksum, fnv1a(bytes, 0, CHECKSUMMED_BYTES), true);
  view.setUint32(H.closed, 0, true);
  const label = encoder.encode(f.label).subarray(0, MAX_LABEL_BYTES);
  view.setUint32(H.labelLength, label.length, true);
  bytes.set(label, H.label);
}
