/**
 * The checkpoint service's wire messages (pg group "ckpt"), the only encoder and decoder.
 * All integers little-endian; times are f64 ms (Infinity = SA_TIME_END); strings are
 * u16 length + UTF-8; section ids u16 length + bytes; data u32 length + bytes.
 *
 *   update  = kind u8 (1..12) · origin u32 · incarnation u32 · seq u32 · time f64 · ringRep u32 · ringSeq u64 · body
 *   sync    = kind u8 (32..35) · ringRep u32 · ringSeq u64 · body
 *     HELLO   (32)  sender u8 · groupSize u16 · time f64 · n u32 · (ckptId str · handles u32) × n
 *     CKPT    (33)  ckptId str · name str · attributes · unlinked u8 · nextGeneratedId u32 · version u53 ·
 *                   unreferencedSince f64 (NaN: referenced) · sections u32
 *     SECTION (34)  ckptId str · sectionId · expiration f64 · lastUpdate f64 · data
 *     END     (35)  checkpoints u32 · sections u32
 *   attributes = creationFlags u32 · checkpointSize u53 · retentionDuration f64 · maxSections u32 ·
 *                maxSectionSize u53 · maxSectionIdSize u53
 *
 * A SECTION message is sent as pieces whose last one, the section data, is empty for an
 * empty section: the case that lost messages in 2008 (pg decides boundaries by byte counts).
 */

import type { NodeId, RingId } from '../../core/io.js';
import { WireReader } from '../../wire/reader.js';
import { WireWriter } from '../../wire/writer.js';
import type { Update, UpdateEnvelope } from './database.js';
import type { CkptId, CreationAttributes } from './types.js';

export const UpdateKind = {
  open: 1,
  close: 2,
  unlink: 3,
  retentionDurationSet: 4,
  sectionCreate: 5,
  sectionDelete: 6,
  write: 7,
  overwrite: 8,
  expirationTimeSet: 9,
  synchronize: 10,
  expireRetention: 11,
  expireSection: 12,
} as const satisfies Record<Update['op'], number>;

export const SyncKind = { Hello: 32, Checkpoint: 33, Section: 34, End: 35 } as const;
export type SyncKind = (typeof SyncKind)[keyof typeof SyncKind];

export interface SyncHello {
  readonly kind: typeof SyncKind.Hello;
  readonly ringId: RingId;
  readonly sender: boolean;
  readonly groupSize: number;
  readonly time: number;
  /** This node's open handles per checkpoint. */
  readonly handles: readonly { readonly ckptId: CkptId; readonly count: number }[];
}

export interface SyncCheckpoint {
  readonly kind: typeof SyncKind.Checkpoint;
  readonly ringId: RingId;
  readonly ckptId: CkptId;
  readonly name: string;
  readonly attributes: CreationAttributes;
  readonly unlinked: boolean;
  readonly nextGeneratedId: number;
  readonly version: number;
  readonly unreferencedSince: number | undefined;
  readonly sections: number;
}

export interface SyncSection {
  readonly kind: typeof SyncKind.Section;
  readonly ringId: RingId;
  readonly ckptId: CkptId;
  readonly sectionId: Uint8Array;
  readonly expiration: number;
  readonly lastUpdate: number;
  readonly data: Uint8Array;
}

export interface SyncEnd {
  readonly kind: typeof SyncKind.End;
  readonly ringId: RingId;
  readonly checkpoints: number;
  readonly sections: number;
}

export type SyncMessage = SyncHello | SyncCheckpoint | SyncSection | SyncEnd;

export type CkptMessage = { readonly kind: 'update'; readonly env: UpdateEnvelope } | SyncMessage;

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();
const MAX_U16 = 0xffff;

function str(w: WireWriter, s: string): void {
  const b = utf8.encode(s);
  if (b.length > MAX_U16) throw new RangeError('string too long for the wire');
  w.u16(b.length).bytes(b);
}

function sid(w: WireWriter, id: Uint8Array): void {
  if (id.length > MAX_U16) throw new RangeError('section id too long for the wire');
  w.u16(id.length).bytes(id);
}

function data(w: WireWriter, d: Uint8Array): void {
  w.u32(d.length).bytes(d);
}

function attrs(w: WireWriter, a: CreationAttributes): void {
  w.u32(a.creationFlags)
    .u53(a.checkpointSize)
    .f64(a.retentionDuration)
    .u32(a.maxSections)
    .u53(a.maxSectionSize)
    .u53(a.maxSectionIdSize);
}

function syncHeader(w: WireWriter, kind: SyncKind, ringId: RingId): void {
  w.u8(kind).u32(ringId.rep).u53(ringId.seq);
}

export function encodeUpdate(env: UpdateEnvelope): Uint8Array {
  const u = env.update;
  const w = new WireWriter(64);
  w.u8(UpdateKind[u.op]).u32(env.origin).u32(env.incarnation).u32(env.seq).f64(env.time);
  w.u32(env.ringId.rep).u53(env.ringId.seq);
  switch (u.op) {
    case 'open':
      str(w, u.name);
      w.u32(u.flags).u8(u.attributes ? 1 : 0);
      if (u.attributes) attrs(w, u.attributes);
      break;
    case 'close':
    case 'synchronize':
      str(w, u.ckptId);
      break;
    case 'unlink':
      str(w, u.name);
      break;
    case 'retentionDurationSet':
      str(w, u.ckptId);
      w.f64(u.duration);
      break;
    case 'sectionCreate':
      str(w, u.ckptId);
      w.u8(u.sectionId ? 1 : 0);
      if (u.sectionId) sid(w, u.sectionId);
      w.f64(u.expiration);
      data(w, u.data);
      break;
    case 'sectionDelete':
      str(w, u.ckptId);
      sid(w, u.sectionId);
      break;
    case 'write':
      str(w, u.ckptId);
      w.u32(u.elements.length);
      for (const e of u.elements) {
        sid(w, e.sectionId);
        w.u53(e.offset);
        data(w, e.data);
      }
      break;
    case 'overwrite':
      str(w, u.ckptId);
      sid(w, u.sectionId);
      data(w, u.data);
      break;
    case 'expirationTimeSet':
      str(w, u.ckptId);
      sid(w, u.sectionId);
      w.f64(u.expiration);
      break;
    case 'expireRetention':
      str(w, u.ckptId);
      w.u53(u.version);
      break;
    case 'expireSection':
      str(w, u.ckptId);
      sid(w, u.sectionId);
      w.f64(u.expiration);
      break;
  }
  return w.finish();
}

export function encodeHello(m: Omit<SyncHello, 'kind'>): Uint8Array {
  const w = new WireWriter(64);
  syncHeader(w, SyncKind.Hello, m.ringId);
  w.u8(m.sender ? 1 : 0)
    .u16(m.groupSize)
    .f64(m.time)
    .u32(m.handles.length);
  for (const h of m.handles) {
    str(w, h.ckptId);
    w.u32(h.count);
  }
  return w.finish();
}

export function encodeCheckpoint(m: Omit<SyncCheckpoint, 'kind'>): Uint8Array {
  const w = new WireWriter(128);
  syncHeader(w, SyncKind.Checkpoint, m.ringId);
  str(w, m.ckptId);
  str(w, m.name);
  attrs(w, m.attributes);
  w.u8(m.unlinked ? 1 : 0)
    .u32(m.nextGeneratedId)
    .u53(m.version)
    .f64(m.unreferencedSince ?? Number.NaN)
    .u32(m.sections);
  return w.finish();
}

/**
 * A section as pieces: [header, section id, data length, data]. The data piece is empty for an
 * empty section (and the id piece for the default section); pg must carry that unchanged.
 */
export function encodeSectionPieces(m: Omit<SyncSection, 'kind'>): Uint8Array[] {
  const head = new WireWriter(64);
  syncHeader(head, SyncKind.Section, m.ringId);
  str(head, m.ckptId);
  head.u16(m.sectionId.length);
  const mid = new WireWriter(24);
  mid.f64(m.expiration).f64(m.lastUpdate).u32(m.data.length);
  return [head.finish(), m.sectionId, mid.finish(), m.data];
}

export function encodeEnd(m: Omit<SyncEnd, 'kind'>): Uint8Array {
  const w = new WireWriter(24);
  syncHeader(w, SyncKind.End, m.ringId);
  w.u32(m.checkpoints).u32(m.sections);
  return w.finish();
}

/** Decodes any ckpt-group message. Throws only DecodeError. */
export function decodeCkptMessage(bytes: Uint8Array): CkptMessage {
  const r = new WireReader(bytes, 'ckpt message');
  const kind = r.u8();
  const readStr = (): string => fromUtf8.decode(r.bytesView(r.u16()));
  const readSid = (): Uint8Array => r.bytesView(r.u16()).slice();
  const readData = (): Uint8Array => r.bytesView(r.u32()).slice();
  const readAttrs = (): CreationAttributes => ({
    creationFlags: r.u32(),
    checkpointSize: r.u53(),
    retentionDuration: r.f64(),
    maxSections: r.u32(),
    maxSectionSize: r.u53(),
    maxSectionIdSize: r.u53(),
  });
  const flag = (): boolean => {
    const v = r.u8();
    if (v > 1) r.fail('bad-value', r.offset - 1);
    return v === 1;
  };
  let m: CkptMessage;
  if (kind >= SyncKind.Hello && kind <= SyncKind.End) {
    const ringId: RingId = { rep: r.u32(), seq: r.u53() };
    if (kind === SyncKind.Hello) {
      const sender = flag();
      const groupSize = r.u16();
      const time = r.f64();
      const n = r.u32();
      if (n > r.remaining / 6) r.fail('bad-count');
      const handles: { ckptId: CkptId; count: number }[] = [];
      for (let i = 0; i < n; i++) handles.push({ ckptId: readStr(), count: r.u32() });
      m = { kind, ringId, sender, groupSize, time, handles };
    } else if (kind === SyncKind.Checkpoint) {
      const ckptId = readStr();
      const name = readStr();
      const attributes = readAttrs();
      const unlinked = flag();
      const nextGeneratedId = r.u32();
      const version = r.u53();
      const since = r.f64();
      const sections = r.u32();
      m = {
        kind,
        ringId,
        ckptId,
        name,
        attributes,
        unlinked,
        nextGeneratedId,
        version,
        unreferencedSince: Number.isNaN(since) ? undefined : since,
        sections,
      };
    } else if (kind === SyncKind.Section) {
      const ckptId = readStr();
      const sectionId = readSid();
      const expiration = r.f64();
      const lastUpdate = r.f64();
      m = { kind, ringId, ckptId, sectionId, expiration, lastUpdate, data: readData() };
    } else {
      m = { kind: SyncKind.End, ringId, checkpoints: r.u32(), sections: r.u32() };
    }
  } else {
    const origin: NodeId = r.u32();
    const incarnation = r.u32();
    const seq = r.u32();
    const time = r.f64();
    const ringId: RingId = { rep: r.u32(), seq: r.u53() };
    const update = decodeUpdateBody(kind, r, readStr, readSid, readData, readAttrs, flag);
    m = { kind: 'update', env: { origin, incarnation, seq, time, ringId, update } };
  }
  r.end();
  return m;
}

function decodeUpdateBody(
  kind: number,
  r: WireReader,
  readStr: () => string,
  readSid: () => Uint8Array,
  readData: () => Uint8Array,
  readAttrs: () => CreationAttributes,
  flag: () => boolean,
): Update {
  switch (kind) {
    case UpdateKind.open: {
      const name = readStr();
      const flags = r.u32();
      return { op: 'open', name, flags, attributes: flag() ? readAttrs() : undefined };
    }
    case UpdateKind.close:
      return { op: 'close', ckptId: readStr() };
    case UpdateKind.unlink:
      return { op: 'unlink', name: readStr() };
    case UpdateKind.retentionDurationSet:
      return { op: 'retentionDurationSet', ckptId: readStr(), duration: r.f64() };
    case UpdateKind.sectionCreate: {
      const ckptId = readStr();
      const sectionId = flag() ? readSid() : undefined;
      const expiration = r.f64();
      return { op: 'sectionCreate', ckptId, sectionId, expiration, data: readData() };
    }
    case UpdateKind.sectionDelete:
      return { op: 'sectionDelete', ckptId: readStr(), sectionId: readSid() };
    case UpdateKind.write: {
      const ckptId = readStr();
      const n = r.u32();
      if (n > r.remaining / 14) r.fail('bad-count');
      const elements: { sectionId: Uint8Array; offset: number; data: Uint8Array }[] = [];
      for (let i = 0; i < n; i++) elements.push({ sectionId: readSid(), offset: r.u53(), data: readData() });
      return { op: 'write', ckptId, elements };
    }
    case UpdateKind.overwrite:
      return { op: 'overwrite', ckptId: readStr(), sectionId: readSid(), data: readData() };
    case UpdateKind.expirationTimeSet:
      return { op: 'expirationTimeSet', ckptId: readStr(), sectionId: readSid(), expiration: r.f64() };
    case UpdateKind.synchronize:
      return { op: 'synchronize', ckptId: readStr() };
    case UpdateKind.expireRetention:
      return { op: 'expireRetention', ckptId: readStr(), version: r.u53() };
    case UpdateKind.expireSection:
      return { op: 'expireSection', ckptId: readStr(), sectionId: readSid(), expiration: r.f64() };
    default:
      return r.fail('bad-type', 0);
  }
}
