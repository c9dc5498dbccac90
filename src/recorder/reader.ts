import type { EventSpec } from './event-spec.js';
import { ENUMS, EV, EVENT_SPECS } from './events/index.js';
import {
  CHECKSUMMED_BYTES,
  FLAG_WIDE,
  FORMAT_VERSION,
  fnv1a,
  H,
  HEADER_SIZE,
  HFLAG_MAPPED,
  HFLAG_VIRTUAL_CLOCK,
  isPowerOfTwo,
  MAGIC,
  MAX_LABEL_BYTES,
  SLOT_SIZE,
} from './format.js';

/** One ring's records in sequence order, column by column (cheap to decode and to scan). */
export interface RecordColumns {
  readonly count: number;
  readonly seq: Uint32Array;
  readonly event: Uint16Array;
  readonly ts: Float64Array;
  /** Eight args per record; args 4..7 are zero unless the event is wide. */
  readonly args: Int32Array;
}

export interface RingHeader {
  readonly version: number;
  readonly slotCount: number;
  readonly nodeId: number;
  readonly pid: number;
  readonly virtualClock: boolean;
  readonly mapped: boolean;
  readonly closed: boolean;
  readonly startWallMs: number;
  readonly anchorDriverMs: number;
  readonly anchorMonoNs: number;
  readonly anchorWallMs: number;
  readonly label: string;
}

export interface RingImage {
  /** Where the bytes came from (a path, or a name the caller gave). */
  readonly source: string;
  /** Undefined when the file is not a readable ring at all (see problems). */
  readonly header: RingHeader | undefined;
  readonly specs: ReadonlyMap<number, EventSpec>;
  readonly enums: Readonly<Record<string, readonly string[]>>;
  /** strings[id - 1] is the interned string with that id. */
  readonly strings: readonly string[];
  readonly records: RecordColumns;
  /** Slots that should hold a record of the retained window but do not (torn or damaged). */
  readonly tornSlots: number;
  /** Ranges of sequence numbers missing inside the retained window. */
  readonly gaps: readonly (readonly [number, number])[];
  /** Clear, human sentences about anything wrong with the file. Empty for a healthy ring. */
  readonly problems: readonly string[];
}

const EMPTY_COLUMNS: RecordColumns = {
  count: 0,
  seq: new Uint32Array(0),
  event: new Uint16Array(0),
  ts: new Float64Array(0),
  args: new Int32Array(0),
};

const decoder = new TextDecoder('utf-8', { fatal: false });

/**
 * Decodes a ring file (a live mapped ring, a dump, or a salvaged ring). Never throws on
 * bad bytes: damage is counted, described in `problems`, and everything else is kept.
 */
export function readRing(bytes: Uint8Array, source = '<ring>'): RingImage {
  const problems: string[] = [];
  const fail = (why: string): RingImage => ({
    source,
    header: undefined,
    specs: EVENT_SPECS,
    enums: ENUMS,
    strings: [],
    records: EMPTY_COLUMNS,
    tornSlots: 0,
    gaps: [],
    problems: [...problems, why],
  });
  if (bytes.length < HEADER_SIZE) {
    return fail(`truncated: ${bytes.length} bytes, shorter than the ${HEADER_SIZE}-byte header`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = decoder.decode(bytes.subarray(0, 8));
  if (magic !== MAGIC) return fail(`not a Totem ring: bad magic ${JSON.stringify(magic)}`);
  const version = view.getUint32(H.version, true);
  if (version !== FORMAT_VERSION)
    return fail(`unsupported format version ${version} (this reader knows ${FORMAT_VERSION})`);
  const slotSize = view.getUint32(H.slotSize, true);
  const slotCount = view.getUint32(H.slotCount, true);
  const registryOffset = view.getUint32(H.registryOffset, true);
  const stringsOffset = view.getUint32(H.stringsOffset, true);
  const slotsOffset = view.getUint32(H.slotsOffset, true);
  if (fnv1a(bytes, 0, CHECKSUMMED_BYTES) !== view.getUint32(H.headerChecksum, true)) {
    problems.push('header checksum mismatch: the header is damaged; using its fields where they are sane');
  }
  if (slotSize !== SLOT_SIZE) return fail(`unsupported slot size ${slotSize}`);
  if (!isPowerOfTwo(slotCount) || slotCount > 1 << 28) return fail(`bad slot count ${slotCount}`);
  if (slotsOffset < HEADER_SIZE || slotsOffset % 8 !== 0) return fail(`bad slots offset ${slotsOffset}`);
  const flags = view.getUint32(H.flags, true);
  const labelLength = Math.min(view.getUint32(H.labelLength, true), MAX_LABEL_BYTES);
  const header: RingHeader = {
    version,
    slotCount,
    nodeId: view.getUint32(H.nodeId, true),
    pid: view.getUint32(H.pid, true),
    virtualClock: (flags & HFLAG_VIRTUAL_CLOCK) !== 0,
    mapped: (flags & HFLAG_MAPPED) !== 0,
    closed: view.getUint32(H.closed, true) === 1,
    startWallMs: view.getFloat64(H.startWallMs, true),
    anchorDriverMs: view.getFloat64(H.anchorDriverMs, true),
    anchorMonoNs: view.getFloat64(H.anchorMonoNs, true),
    anchorWallMs: view.getFloat64(H.anchorWallMs, true),
    label: decoder.decode(bytes.subarray(H.label, H.label + labelLength)),
  };

  const { specs, enums } = readRegistry(bytes, view, registryOffset, stringsOffset, problems);
  const strings = readStrings(bytes, view, stringsOffset, slotsOffset, problems);
  const slots = readSlots(bytes, slotsOffset, slotCount, problems);
  return { source, header, specs, enums, strings, ...slots, problems };
}

function readRegistry(
  bytes: Uint8Array,
  view: DataView,
  offset: number,
  end: number,
  problems: string[],
): { specs: ReadonlyMap<number, EventSpec>; enums: Readonly<Record<string, readonly string[]>> } {
  try {
    if (offset + 4 > bytes.length || end > bytes.length || offset >= end) throw new Error('out of bounds');
    const length = view.getUint32(offset, true);
    if (offset + 4 + length > end) throw new Error(`length ${length} runs past its region`);
    const json = JSON.parse(decoder.decode(bytes.subarray(offset + 4, offset + 4 + length))) as {
      events?: unknown;
      enums?: unknown;
    };
    if (!Array.isArray(json.events)) throw new Error('no events');
    const specs = new Map<number, EventSpec>();
    for (const e of json.events as EventSpec[]) {
      if (typeof e?.id === 'number' && typeof e.name === 'string' && Array.isArray(e.argNames)) {
        specs.set(e.id, {
          id: e.id,
          layer: String(e.layer),
          name: e.name,
          argNames: e.argNames.map(String),
          argKinds: Array.isArray(e.argKinds) ? e.argKinds : [],
          doc: String(e.doc ?? ''),
          wide: e.wide === true,
        });
      }
    }
    const enums =
      json.enums && typeof json.enums === 'object'
        ? (json.enums as Record<string, readonly string[]>)
        : ENUMS;
    return { specs, enums };
  } catch (err) {
    problems.push(`event registry unreadable (${(err as Error).message}); using this build's registry`);
    return { specs: EVENT_SPECS, enums: ENUMS };
  }
}

function readStrings(
  bytes: Uint8Array,
  view: DataView,
  offset: number,
  end: number,
  problems: string[],
): string[] {
  const out: string[] = [];
  if (offset + 8 > bytes.length || end > bytes.length || offset + 8 > end) {
    problems.push('string table out of bounds');
    return out;
  }
  const count = view.getUint32(offset, true);
  let at = offset + 8;
  for (let i = 0; i < count; i++) {
    if (at + 2 > end) {
      problems.push(`string table damaged after ${i} of ${count} strings`);
      break;
    }
    const len = view.getUint16(at, true);
    if (at + 2 + len > end) {
      problems.push(`string table damaged after ${i} of ${count} strings`);
      break;
    }
    out.push(decoder.decode(bytes.subarray(at + 2, at + 2 + len)));
    at += 2 + len;
  }
  return out;
}

function readSlots(
  bytes: Uint8Array,
  slotsOffset: number,
  slotCount: number,
  problems: string[],
): { records: RecordColumns; tornSlots: number; gaps: (readonly [number, number])[] } {
  const available = Math.max(0, Math.min(slotCount, Math.floor((bytes.length - slotsOffset) / SLOT_SIZE)));
  if (available < slotCount) problems.push(`truncated: ${available} of ${slotCount} slots present`);
  if (available === 0) return { records: EMPTY_COLUMNS, tornSlots: 0, gaps: [] };
  // Typed-array views need 8-byte alignment; copy only when the caller's bytes lack it.
  const start = bytes.byteOffset + slotsOffset;
  const aligned = start % 8 === 0;
  const raw = aligned
    ? bytes
    : new Uint8Array(bytes.subarray(slotsOffset, slotsOffset + available * SLOT_SIZE));
  const base = aligned ? start : 0;
  const words = new Uint32Array(raw.buffer, base, available * 8);
  const stamps = new Float64Array(raw.buffer, base, available * 4);
  const mask = slotCount - 1;

  const found = findHead(words, available, mask);
  if (found.head === 0) return { records: EMPTY_COLUMNS, tornSlots: 0, gaps: [] };
  const head = found.head;
  // Keep every slot whose seq lies in (head - N, head], placed by its distance from head.
  // Before the first lap (and before the u32 counter ever wrapped) only `head` slots were written.
  const window = head >= slotCount || found.wrappedCounter ? slotCount : head;
  const byAge = placeByAge(words, available, mask, head, window);
  const { kept, tornSlots, gaps } = findGaps(byAge, head, window, slotCount, available);
  const { records, orphans } = extract(words, stamps, byAge, kept);
  if (orphans > 0) problems.push(`${orphans} continuation slot(s) without their first half were skipped`);
  if (tornSlots > 0) problems.push(`${tornSlots} torn or damaged slot(s) skipped in ${gaps.length} gap(s)`);
  return { records, tornSlots, gaps };
}
/** Converts a record's driver time to host CLOCK_MONOTONIC nanoseconds (or virtual ns). */
export function monoNs(header: RingHeader, ts: number): number {
  return header.anchorMonoNs + (ts - header.anchorDriverMs) * 1e6;
}

// The loops below are separate functions so that each is optimized on its own: one long
// function deoptimizes on every branch its first pass never took.

/** The newest valid sequence number (0 when there is none), in serial-number arithmetic. */
function findHead(
  words: Uint32Array,
  available: number,
  mask: number,
): { head: number; wrappedCounter: boolean } {
  let head = 0;
  let maxRaw = 0;
  for (let i = 0; i < available; i++) {
    const seq = words[i * 8]!;
    if (seq === 0 || (seq & mask) !== i) continue;
    if (head === 0 || ((seq - head) | 0) > 0) head = seq;
    if (seq > maxRaw) maxRaw = seq;
  }
  return { head, wrappedCounter: maxRaw > head };
}

/** byAge[k] = the slot holding seq head - (window - 1 - k), or -1. */
function placeByAge(
  words: Uint32Array,
  available: number,
  mask: number,
  head: number,
  window: number,
): Int32Array {
  const byAge = new Int32Array(window).fill(-1);
  for (let i = 0; i < available; i++) {
    const seq = words[i * 8]!;
    if (seq === 0 || (seq & mask) !== i) continue;
    const age = (head - seq) >>> 0;
    if (age < window) byAge[window - 1 - age] = i;
  }
  return byAge;
}

function findGaps(
  byAge: Int32Array,
  head: number,
  window: number,
  slotCount: number,
  available: number,
): { kept: number; tornSlots: number; gaps: [number, number][] } {
  const mask = slotCount - 1;
  let kept = 0;
  const gaps: [number, number][] = [];
  let tornSlots = 0;
  for (let k = 0; k < window; k++) {
    if (byAge[k]! >= 0) {
      kept++;
      continue;
    }
    // The oldest slot of a full ring is the next one the writer fills: when it is empty the
    // writer died while overwriting it, which loses the oldest record, not one inside the run.
    if (k === 0 && window === slotCount) continue;
    const seq = (head - (window - 1 - k)) >>> 0;
    // Slots beyond a truncated file are missing, not torn; seq 0 is never written.
    if ((seq & mask) >= available || seq === 0) continue;
    tornSlots++;
    const last = gaps[gaps.length - 1];
    if (last && (last[1] + 1) >>> 0 === seq) last[1] = seq;
    else gaps.push([seq, seq]);
  }
  return { kept, tornSlots, gaps };
}

function extract(
  words: Uint32Array,
  stamps: Float64Array,
  byAge: Int32Array,
  kept: number,
): { records: RecordColumns; orphans: number } {
  const seqs = new Uint32Array(kept);
  const events = new Uint16Array(kept);
  const ts = new Float64Array(kept);
  const args = new Int32Array(kept * 8);
  const cont = EV.REC_CONT;
  let n = 0;
  let orphans = 0;
  let lastWide = false;
  for (let k = 0; k < byAge.length; k++) {
    const i = byAge[k]!;
    if (i < 0) continue;
    const w = i * 8;
    const word1 = words[w + 1]!;
    const event = word1 & 0xffff;
    if (event === cont) {
      // A continuation belongs to the record just before it.
      const merged = lastWide && n > 0 && ((seqs[n - 1]! + 1) >>> 0 || 1) === words[w]!;
      if (merged) {
        const a = (n - 1) * 8;
        args[a + 4] = words[w + 4]! | 0;
        args[a + 5] = words[w + 5]! | 0;
        args[a + 6] = words[w + 6]! | 0;
        args[a + 7] = words[w + 7]! | 0;
      } else orphans++;
      lastWide = false;
      continue;
    }
    seqs[n] = words[w]!;
    events[n] = event;
    ts[n] = stamps[(w >> 1) + 1]!;
    const a = n * 8;
    args[a] = words[w + 4]! | 0;
    args[a + 1] = words[w + 5]! | 0;
    args[a + 2] = words[w + 6]! | 0;
    args[a + 3] = words[w + 7]! | 0;
    lastWide = ((word1 >>> 16) & FLAG_WIDE) !== 0;
    n++;
  }
  return {
    records: {
      count: n,
      seq: seqs.subarray(0, n),
      event: events.subarray(0, n),
      ts: ts.subarray(0, n),
      args,
    },
    orphans,
  };
}
