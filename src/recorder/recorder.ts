import { performance } from 'node:perf_hooks';
import { EV, registryJson } from './events/index.js';
import {
  type ClockAnchor,
  FLAG_WIDE,
  fileSizeFor,
  fnv1a,
  H,
  HFLAG_MAPPED,
  HFLAG_VIRTUAL_CLOCK,
  isPowerOfTwo,
  MAX_STRING_BYTES,
  REGISTRY_OFFSET,
  REGISTRY_SIZE,
  SLOT_WORDS,
  SLOTS_OFFSET,
  STRINGS_OFFSET,
  STRINGS_SIZE,
  writeHeader,
} from './format.js';

export interface RecorderOptions {
  /** Number of 32-byte slots, a power of two (default 65536 = 2 MiB). */
  readonly slots?: number;
  readonly nodeId?: number;
  readonly pid?: number;
  /** Timestamps are a simulator's virtual clock rather than performance.now(). */
  readonly virtualClock?: boolean;
  /** Free text kept in the header (e.g. "sim seed 42"). */
  readonly label?: string;
  /** Where to write the ring's bytes (a mapped file) instead of a fresh heap buffer. */
  readonly buffer?: ArrayBuffer;
  readonly mapped?: boolean;
  /** Overrides the clock anchor (the simulator anchors virtual time at 0). */
  readonly anchor?: ClockAnchor;
}

export const DEFAULT_SLOTS = 65536;

const encoder = new TextEncoder();

let registryBytesCache: { bytes: Uint8Array; hash: number } | undefined;
function registryBytes(): { bytes: Uint8Array; hash: number } {
  if (!registryBytesCache) {
    const bytes = encoder.encode(JSON.stringify(registryJson()));
    registryBytesCache = { bytes, hash: fnv1a(bytes) };
  }
  return registryBytesCache;
}

export function realClockAnchor(): ClockAnchor {
  const driverMs = performance.now();
  const monoNs = Number(process.hrtime.bigint());
  return { driverMs, monoNs, wallMs: performance.timeOrigin + driverMs };
}

/**
 * An always-on binary flight recorder: fixed 32-byte slots in a power-of-two ring.
 *
 * The hot call is `rec(EV.X, a0, a1, a2, a3)` with numbers only. Timestamps are not read
 * per record: the driver sets `now` once per input (a packet, a timer, a request) and every
 * record made while handling it shares that value.
 */
export class Recorder {
  /** The driver's current time in ms; stamped on every record. */
  now = 0;
  readonly buffer: ArrayBuffer;
  readonly slotCount: number;
  readonly nodeId: number;
  readonly mapped: boolean;
  private readonly mask: number;
  private readonly words: Int32Array;
  private readonly stamps: Float64Array;
  private seq = 0;
  private readonly strings = new Map<string, number>();
  private readonly stringView: DataView;
  private readonly stringBytes: Uint8Array;
  private stringCount = 0;
  private stringUsed = 0;
  private stringsFull = false;
  /**
   * Called after an assertion failure or fatal error is recorded, to make sure the ring
   * reaches disk (a heap ring dumps itself here; a mapped ring is already there).
   */
  onFailure: (() => void) | undefined;

  constructor(opts: RecorderOptions = {}) {
    const slots = opts.slots ?? DEFAULT_SLOTS;
    if (!isPowerOfTwo(slots) || slots < 16)
      throw new RangeError(`recorder slots must be a power of two >= 16, got ${slots}`);
    const size = fileSizeFor(slots);
    const buffer = opts.buffer ?? new ArrayBuffer(size);
    if (buffer.byteLength < size)
      throw new RangeError(`recorder buffer has ${buffer.byteLength} bytes, needs ${size}`);
    this.buffer = buffer;
    this.slotCount = slots;
    this.mask = slots - 1;
    this.nodeId = opts.nodeId ?? 0;
    this.mapped = opts.mapped ?? false;
    this.words = new Int32Array(buffer, SLOTS_OFFSET, slots * SLOT_WORDS);
    this.stamps = new Float64Array(buffer, SLOTS_OFFSET, (slots * SLOT_WORDS) / 2);
    this.stringView = new DataView(buffer, STRINGS_OFFSET, STRINGS_SIZE);
    this.stringBytes = new Uint8Array(buffer, STRINGS_OFFSET, STRINGS_SIZE);
    const reg = registryBytes();
    new DataView(buffer).setUint32(REGISTRY_OFFSET, reg.bytes.length, true);
    new Uint8Array(buffer).set(reg.bytes.subarray(0, REGISTRY_SIZE - 4), REGISTRY_OFFSET + 4);
    const anchor =
      opts.anchor ?? (opts.virtualClock ? { driverMs: 0, monoNs: 0, wallMs: 0 } : realClockAnchor());
    writeHeader(buffer, {
      slotCount: slots,
      nodeId: this.nodeId,
      pid: opts.pid ?? process.pid,
      flags: (opts.virtualClock ? HFLAG_VIRTUAL_CLOCK : 0) | (this.mapped ? HFLAG_MAPPED : 0),
      startWallMs: opts.virtualClock ? 0 : Date.now(),
      anchor,
      registryHash: reg.hash,
      label: opts.label ?? '',
    });
    // A virtual clock anchored later (a simulated process started mid-run) opens at its anchor.
    this.now = anchor.driverMs;
    this.stringView.setUint32(0, 0, true);
    this.stringView.setUint32(4, 0, true);
    this.rec(EV.REC_OPEN, opts.pid ?? process.pid, this.nodeId, slots, this.mapped ? 1 : 0);
  }

  /** Sets the time stamped on the records that follow (the driver calls this once per input). */
  setTime(ms: number): void {
    this.now = ms;
  }

  /** Records one event. Numbers only; each argument is stored as 32 bits. */
  rec(ev: number, a0 = 0, a1 = 0, a2 = 0, a3 = 0): void {
    const seq = (this.seq + 1) >>> 0 || 1;
    this.seq = seq;
    // `<< 3` is SLOT_WORDS: a literal, because an imported binding costs a check per call.
    const w = (seq & this.mask) << 3;
    const words = this.words;
    words[w] = 0;
    words[w + 1] = ev;
    this.stamps[(w >> 1) + 1] = this.now;
    words[w + 4] = a0;
    words[w + 5] = a1;
    words[w + 6] = a2;
    words[w + 7] = a3;
    words[w] = seq;
  }

  /** Records one event with the clock read now (for call sites that have no driver time). */
  recNow(ev: number, a0 = 0, a1 = 0, a2 = 0, a3 = 0): void {
    this.now = performance.now();
    this.rec(ev, a0, a1, a2, a3);
  }

  /** Records an event with up to eight arguments in two consecutive slots. */
  recWide(ev: number, a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, a6 = 0, a7 = 0): void {
    const seq = (this.seq + 1) >>> 0 || 1;
    const seq2 = (seq + 1) >>> 0 || 1;
    this.seq = seq2;
    const words = this.words;
    const w = (seq & this.mask) << 3;
    const w2 = (seq2 & this.mask) << 3;
    words[w] = 0;
    words[w2] = 0;
    words[w + 1] = ev | (FLAG_WIDE << 16);
    this.stamps[(w >> 1) + 1] = this.now;
    words[w + 4] = a0;
    words[w + 5] = a1;
    words[w + 6] = a2;
    words[w + 7] = a3;
    words[w2 + 1] = EV.REC_CONT;
    this.stamps[(w2 >> 1) + 1] = this.now;
    words[w2 + 4] = a4;
    words[w2 + 5] = a5;
    words[w2 + 6] = a6;
    words[w2 + 7] = a7;
    words[w2] = seq2;
    words[w] = seq;
  }

  /**
   * Returns a small id for a string, storing it once in the ring's string table.
   * For rare dynamic text (assert messages, error names, group names), never per packet.
   * Returns 0 when the table is full (readers show "<string table full>").
   */
  intern(text: string): number {
    const known = this.strings.get(text);
    if (known !== undefined) return known;
    if (this.stringsFull) return 0;
    let bytes = encoder.encode(text);
    if (bytes.length > MAX_STRING_BYTES) bytes = bytes.subarray(0, MAX_STRING_BYTES);
    const at = 8 + this.stringUsed;
    if (at + 2 + bytes.length > STRINGS_SIZE) {
      this.stringsFull = true;
      return 0;
    }
    this.stringView.setUint16(at, bytes.length, true);
    this.stringBytes.set(bytes, at + 2);
    this.stringUsed += 2 + bytes.length;
    this.stringCount += 1;
    this.stringView.setUint32(4, this.stringUsed, true);
    // The count is the commit word of the table: written after the entry.
    this.stringView.setUint32(0, this.stringCount, true);
    this.strings.set(text, this.stringCount);
    this.rec(EV.REC_STRING, this.stringCount);
    return this.stringCount;
  }

  /** The last sequence number written (0 before the first record). */
  get lastSeq(): number {
    return this.seq;
  }

  /** Marks the ring as closed cleanly (readers show it; salvage keeps it anyway). */
  markClosed(reason: string): void {
    this.rec(EV.REC_CLOSE, this.intern(reason));
    new DataView(this.buffer).setUint32(H.closed, 1, true);
  }

  /** A copy of the ring's bytes, in file format. */
  snapshot(): Uint8Array {
    return new Uint8Array(this.buffer.slice(0, fileSizeFor(this.slotCount)));
  }
}
