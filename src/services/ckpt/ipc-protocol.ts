/**
 * The checkpoint requests and replies between a client and its daemon (the payloads of IPC
 * REQUEST / REPLY frames with service id 3, openais' CKPT service number). The only
 * encoder/decoder for them; the daemon's binding and the client library both use it.
 * Little-endian throughout; decoders throw nothing but DecodeError.
 *
 *   name  = len u16 · UTF-8        id = len u16 · bytes        data = len u32 · bytes
 *   attrs = creationFlags u32 · checkpointSize f64 · retentionDuration f64 ·
 *           maxSections u32 · maxSectionSize u32 · maxSectionIdSize u32
 *
 *   op                 request                                        OK reply
 *   OPEN 1             flags u32 · hasAttrs u8 · [attrs] · name       handle u32
 *   CLOSE 2            handle u32                                     empty
 *   UNLINK 3           name                                           empty
 *   RETENTION 4        handle u32 · duration f64                      empty
 *   SECTION_CREATE 5   handle u32 · hasId u8 · [id] · expiration f64 · data      id
 *   SECTION_DELETE 6   handle u32 · id                                empty
 *   WRITE 7            handle u32 · n u32 · (id · offset u32 · data) × n          empty
 *   OVERWRITE 8        handle u32 · id · data                         empty
 *   READ 9             handle u32 · n u32 · (id · offset u32 · size u32) × n      n u32 · data × n
 *   EXPIRATION 10      handle u32 · id · expiration f64               empty
 *   ITER_INIT 11       handle u32 · chosen u8 · expiration f64        iteration u32
 *   ITER_NEXT 12       iteration u32                                  id · expiration f64 · size u32 · lastUpdate f64
 *   ITER_FINALIZE 13   iteration u32                                  empty
 *   STATUS 14          handle u32                                     attrs · sections u32 · memoryUsed f64
 *   SYNCHRONIZE 15     handle u32                                     empty
 *   LIST 16            empty                                          n u32 · (name · sections u32 · memoryUsed f64 · refs u32) × n
 *
 * A failed request is an IPC error reply (the IPC code nearest to the AIS one) whose text
 * starts with the AIS name: `SA_AIS_ERR_NO_SPACE[ element=2][: detail]` (see aisErrorText).
 */
import { WireReader } from '../../wire/reader.js';
import { WireWriter } from '../../wire/writer.js';
import { AisError, type AisErrorName } from './errors.js';
import type {
  CheckpointStatus,
  CkptRequest,
  CreationAttributes,
  ReadElement,
  SectionDescriptor,
  SectionsChosen,
  WriteElement,
} from './types.js';

export const CKPT_SERVICE_ID = 3;

export const CkptOp = {
  Open: 1,
  Close: 2,
  Unlink: 3,
  RetentionDurationSet: 4,
  SectionCreate: 5,
  SectionDelete: 6,
  Write: 7,
  Overwrite: 8,
  Read: 9,
  ExpirationTimeSet: 10,
  IterationInitialize: 11,
  IterationNext: 12,
  IterationFinalize: 13,
  Status: 14,
  Synchronize: 15,
  List: 16,
} as const;
export type CkptOp = (typeof CkptOp)[keyof typeof CkptOp];

/** A request as carried over IPC: a CkptRequest without the reqId (the binding assigns it), or LIST. */
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
export type CkptWireRequest = DistributiveOmit<CkptRequest, 'reqId'> | { kind: 'list' };

/** One linked checkpoint as LIST reports it. */
export interface CheckpointSummary {
  readonly name: string;
  readonly numberOfSections: number;
  readonly memoryUsed: number;
  /** Open handles cluster-wide. */
  readonly openHandles: number;
}

const MAX_CHOSEN = 5;
const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder();

export function encodeRequest(req: CkptWireRequest): { op: CkptOp; payload: Uint8Array } {
  const w = new WireWriter();
  switch (req.kind) {
    case 'open':
      w.u32(req.flags).u8(req.attributes ? 1 : 0);
      if (req.attributes) writeAttrs(w, req.attributes);
      writeName(w, req.name);
      return { op: CkptOp.Open, payload: w.finish() };
    case 'close':
      return { op: CkptOp.Close, payload: w.u32(req.handle).finish() };
    case 'unlink':
      writeName(w, req.name);
      return { op: CkptOp.Unlink, payload: w.finish() };
    case 'retentionDurationSet':
      return { op: CkptOp.RetentionDurationSet, payload: w.u32(req.handle).f64(req.duration).finish() };
    case 'sectionCreate':
      w.u32(req.handle).u8(req.sectionId ? 1 : 0);
      if (req.sectionId) writeId(w, req.sectionId);
      w.f64(req.expirationTime);
      writeData(w, req.initialData);
      return { op: CkptOp.SectionCreate, payload: w.finish() };
    case 'sectionDelete':
      w.u32(req.handle);
      writeId(w, req.sectionId);
      return { op: CkptOp.SectionDelete, payload: w.finish() };
    case 'write':
      w.u32(req.handle).u32(req.elements.length);
      for (const e of req.elements) {
        writeId(w, e.sectionId);
        w.u32(e.offset);
        writeData(w, e.data);
      }
      return { op: CkptOp.Write, payload: w.finish() };
    case 'overwrite':
      w.u32(req.handle);
      writeId(w, req.sectionId);
      writeData(w, req.data);
      return { op: CkptOp.Overwrite, payload: w.finish() };
    case 'read':
      w.u32(req.handle).u32(req.elements.length);
      for (const e of req.elements) {
        writeId(w, e.sectionId);
        w.u32(e.offset).u32(e.size);
      }
      return { op: CkptOp.Read, payload: w.finish() };
    case 'expirationTimeSet':
      w.u32(req.handle);
      writeId(w, req.sectionId);
      w.f64(req.expirationTime);
      return { op: CkptOp.ExpirationTimeSet, payload: w.finish() };
    case 'iterationInitialize':
      w.u32(req.handle).u8(req.sectionsChosen).f64(req.expirationTime);
      return { op: CkptOp.IterationInitialize, payload: w.finish() };
    case 'iterationNext':
      return { op: CkptOp.IterationNext, payload: w.u32(req.iteration).finish() };
    case 'iterationFinalize':
      return { op: CkptOp.IterationFinalize, payload: w.u32(req.iteration).finish() };
    case 'status':
      return { op: CkptOp.Status, payload: w.u32(req.handle).finish() };
    case 'synchronize':
      return { op: CkptOp.Synchronize, payload: w.u32(req.handle).finish() };
    case 'list':
      return { op: CkptOp.List, payload: w.finish() };
  }
}

/** Decodes a request; an unknown op is a DecodeError ('bad-type'). */
export function decodeRequest(op: number, payload: Uint8Array): CkptWireRequest {
  const r = new WireReader(payload, `ckpt request ${op}`);
  const req = readRequest(op, r);
  r.end();
  return req;
}

function readRequest(op: number, r: WireReader): CkptWireRequest {
  switch (op) {
    case CkptOp.Open: {
      const flags = r.u32();
      const has = readBool(r);
      const attributes = has ? readAttrs(r) : undefined;
      const name = readName(r);
      return attributes ? { kind: 'open', name, flags, attributes } : { kind: 'open', name, flags };
    }
    case CkptOp.Close:
      return { kind: 'close', handle: r.u32() };
    case CkptOp.Unlink:
      return { kind: 'unlink', name: readName(r) };
    case CkptOp.RetentionDurationSet:
      return { kind: 'retentionDurationSet', handle: r.u32(), duration: r.f64() };
    case CkptOp.SectionCreate: {
      const handle = r.u32();
      const sectionId = readBool(r) ? readId(r) : undefined;
      const expirationTime = r.f64();
      const initialData = readData(r);
      return sectionId
        ? { kind: 'sectionCreate', handle, sectionId, expirationTime, initialData }
        : { kind: 'sectionCreate', handle, expirationTime, initialData };
    }
    case CkptOp.SectionDelete:
      return { kind: 'sectionDelete', handle: r.u32(), sectionId: readId(r) };
    case CkptOp.Write: {
      const handle = r.u32();
      const n = readCount(r, 10);
      const elements: WriteElement[] = [];
      for (let i = 0; i < n; i++) elements.push({ sectionId: readId(r), offset: r.u32(), data: readData(r) });
      return { kind: 'write', handle, elements };
    }
    case CkptOp.Overwrite:
      return { kind: 'overwrite', handle: r.u32(), sectionId: readId(r), data: readData(r) };
    case CkptOp.Read: {
      const handle = r.u32();
      const n = readCount(r, 10);
      const elements: ReadElement[] = [];
      for (let i = 0; i < n; i++) elements.push({ sectionId: readId(r), offset: r.u32(), size: r.u32() });
      return { kind: 'read', handle, elements };
    }
    case CkptOp.ExpirationTimeSet:
      return { kind: 'expirationTimeSet', handle: r.u32(), sectionId: readId(r), expirationTime: r.f64() };
    case CkptOp.IterationInitialize: {
      const handle = r.u32();
      const chosen = r.u8();
      if (chosen < 1 || chosen > MAX_CHOSEN) r.fail('bad-value');
      return {
        kind: 'iterationInitialize',
        handle,
        sectionsChosen: chosen as SectionsChosen,
        expirationTime: r.f64(),
      };
    }
    case CkptOp.IterationNext:
      return { kind: 'iterationNext', iteration: r.u32() };
    case CkptOp.IterationFinalize:
      return { kind: 'iterationFinalize', iteration: r.u32() };
    case CkptOp.Status:
      return { kind: 'status', handle: r.u32() };
    case CkptOp.Synchronize:
      return { kind: 'synchronize', handle: r.u32() };
    case CkptOp.List:
      return { kind: 'list' };
    default:
      return r.fail('bad-type', 0);
  }
}

// ---- replies --------------------------------------------------------------------------------

export function encodeHandleReply(handle: number): Uint8Array {
  return new WireWriter(4).u32(handle).finish();
}

export function decodeHandleReply(payload: Uint8Array): number {
  const r = new WireReader(payload, 'ckpt handle reply');
  const h = r.u32();
  r.end();
  return h;
}

export function encodeSectionIdReply(id: Uint8Array): Uint8Array {
  const w = new WireWriter(2 + id.length);
  writeId(w, id);
  return w.finish();
}

export function decodeSectionIdReply(payload: Uint8Array): Uint8Array {
  const r = new WireReader(payload, 'ckpt section id reply');
  const id = readId(r);
  r.end();
  return id.slice();
}

export function encodeReadReply(data: readonly Uint8Array[]): Uint8Array {
  const w = new WireWriter();
  w.u32(data.length);
  for (const d of data) writeData(w, d);
  return w.finish();
}

export function decodeReadReply(payload: Uint8Array): Uint8Array[] {
  const r = new WireReader(payload, 'ckpt read reply');
  const n = readCount(r, 4);
  const out: Uint8Array[] = [];
  for (let i = 0; i < n; i++) out.push(readData(r).slice());
  r.end();
  return out;
}

export function encodeDescriptorReply(d: SectionDescriptor): Uint8Array {
  const w = new WireWriter();
  writeId(w, d.sectionId);
  w.f64(d.expirationTime).u32(d.sectionSize).f64(d.lastUpdate);
  return w.finish();
}

export function decodeDescriptorReply(payload: Uint8Array): SectionDescriptor {
  const r = new WireReader(payload, 'ckpt section descriptor');
  const sectionId = readId(r).slice();
  const expirationTime = r.f64();
  const sectionSize = r.u32();
  const lastUpdate = r.f64();
  r.end();
  return { sectionId, expirationTime, sectionSize, sectionState: 1, lastUpdate };
}

export function encodeStatusReply(s: CheckpointStatus): Uint8Array {
  const w = new WireWriter();
  writeAttrs(w, s.attributes);
  w.u32(s.numberOfSections).f64(s.memoryUsed);
  return w.finish();
}

export function decodeStatusReply(payload: Uint8Array): CheckpointStatus {
  const r = new WireReader(payload, 'ckpt status reply');
  const attributes = readAttrs(r);
  const numberOfSections = r.u32();
  const memoryUsed = r.f64();
  r.end();
  return { attributes, numberOfSections, memoryUsed };
}

export function encodeListReply(list: readonly CheckpointSummary[]): Uint8Array {
  const w = new WireWriter();
  w.u32(list.length);
  for (const c of list) {
    writeName(w, c.name);
    w.u32(c.numberOfSections).f64(c.memoryUsed).u32(c.openHandles);
  }
  return w.finish();
}

export function decodeListReply(payload: Uint8Array): CheckpointSummary[] {
  const r = new WireReader(payload, 'ckpt list reply');
  const n = readCount(r, 18);
  const out: CheckpointSummary[] = [];
  for (let i = 0; i < n; i++) {
    out.push({ name: readName(r), numberOfSections: r.u32(), memoryUsed: r.f64(), openHandles: r.u32() });
  }
  r.end();
  return out;
}

export function decodeEmptyReply(payload: Uint8Array): void {
  new WireReader(payload, 'ckpt reply').end();
}

// ---- errors ---------------------------------------------------------------------------------

/** The text of an error reply: the AIS name first, so clients recover it exactly. */
export function aisErrorText(aisName: AisErrorName, errorIndex: number | undefined, detail: string): string {
  const index = errorIndex === undefined ? '' : ` element=${errorIndex}`;
  return `SA_AIS_ERR_${aisName}${index}${detail ? `: ${detail}` : ''}`;
}

const AIS_TEXT = /^SA_AIS_ERR_([A-Z_]+)(?: element=(\d+))?(?:: ([\s\S]*))?$/;

/** Parses aisErrorText; undefined when the text is not one (a plain IPC error). */
export function parseAisErrorText(
  text: string,
): { aisName: AisErrorName; errorIndex: number | undefined; detail: string } | undefined {
  const m = AIS_TEXT.exec(text);
  if (!m || !Object.hasOwn(AisError, m[1]!)) return undefined;
  return {
    aisName: m[1] as AisErrorName,
    errorIndex: m[2] === undefined ? undefined : Number(m[2]),
    detail: m[3] ?? '',
  };
}

// ---- pieces ---------------------------------------------------------------------------------

function writeAttrs(w: WireWriter, a: CreationAttributes): void {
  w.u32(a.creationFlags)
    .f64(a.checkpointSize)
    .f64(a.retentionDuration)
    .u32(a.maxSections)
    .u32(a.maxSectionSize)
    .u32(a.maxSectionIdSize);
}

function readAttrs(r: WireReader): CreationAttributes {
  return {
    creationFlags: r.u32(),
    checkpointSize: r.f64(),
    retentionDuration: r.f64(),
    maxSections: r.u32(),
    maxSectionSize: r.u32(),
    maxSectionIdSize: r.u32(),
  };
}

function writeName(w: WireWriter, name: string): void {
  const bytes = utf8.encode(name);
  w.u16(bytes.length).bytes(bytes);
}

function readName(r: WireReader): string {
  return utf8Decoder.decode(r.bytesView(r.u16()));
}

function writeId(w: WireWriter, id: Uint8Array): void {
  w.u16(id.length).bytes(id);
}

function readId(r: WireReader): Uint8Array {
  return r.bytesView(r.u16());
}

function writeData(w: WireWriter, data: Uint8Array): void {
  w.u32(data.length).bytes(data);
}

function readData(r: WireReader): Uint8Array {
  return r.bytesView(r.u32());
}

function readBool(r: WireReader): boolean {
  const v = r.u8();
  if (v > 1) r.fail('bad-value');
  return v === 1;
}

/** A count of items each at least `minBytes` long: bounded by what is left. */
function readCount(r: WireReader, minBytes: number): number {
  const n = r.u32();
  if (n > r.remaining / minBytes) r.fail('bad-count');
  return n;
}
