/**
 * The plock requests and replies between a client and its daemon (payloads of IPC REQUEST /
 * REPLY frames with service id 4). The only encoder/decoder for them; the daemon's binding and
 * the client library both use it. Little-endian; decoders throw nothing but DecodeError.
 *
 *   range  = space (u16 len · UTF-8) · inode u53 · start u53 · end u53 · owner u32
 *   holder = space · inode u53 · start u53 · end u53 · exclusive u8 · nodeId u32 · owner u32
 *
 *   op          request                                   OK reply
 *   LOCK 1      token u32 · flags u8 (1 excl, 2 wait) · range    empty
 *   UNLOCK 2    range                                     empty
 *   TEST 3      flags u8 (1 excl) · range                 has u8 · [holder]
 *   CANCEL 4    token u32 (of a LOCK of this connection)  cancelled u8
 *   LIST 5      hasInode u8 · space · [inode u53]         n u32 · holder × n
 *
 * A failed request is an IPC error reply whose text starts with `PLOCK_<code>` (plockErrorText).
 */
import { WireReader } from '../../wire/reader.js';
import { WireWriter } from '../../wire/writer.js';
import { PLOCK_ERROR_CODES, type PlockErrorCode, type PlockHolder, type PlockRange } from './types.js';

export const PLOCK_SERVICE_ID = 4;

export const PlockOp = { Lock: 1, Unlock: 2, Test: 3, Cancel: 4, List: 5 } as const;
/** Events the daemon pushes: LOST (a granted lock a partition merge took away; payload: the lock). */
export const PlockEvent = { Lost: 1 } as const;
export type PlockOp = (typeof PlockOp)[keyof typeof PlockOp];

export type PlockWireRequest =
  | (PlockRange & { kind: 'lock'; token: number; exclusive: boolean; wait: boolean })
  | (PlockRange & { kind: 'unlock' })
  | (PlockRange & { kind: 'test'; exclusive: boolean })
  | { kind: 'cancel'; token: number }
  | { kind: 'list'; space: string; inode?: number };

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

function writeStr(w: WireWriter, s: string): void {
  const b = utf8.encode(s);
  if (b.length > 0xffff) throw new RangeError('string too long for the wire');
  w.u16(b.length).bytes(b);
}

function readStr(r: WireReader): string {
  return fromUtf8.decode(r.bytesView(r.u16()));
}

function writeRange(w: WireWriter, t: PlockRange): void {
  writeStr(w, t.space);
  w.u53(t.inode).u53(t.start).u53(t.end).u32(t.owner);
}

function readRange(r: WireReader): PlockRange {
  return { space: readStr(r), inode: r.u53(), start: r.u53(), end: r.u53(), owner: r.u32() };
}

function flags(r: WireReader, allowed: number): number {
  const at = r.offset;
  const f = r.u8();
  if (f & ~allowed) r.fail('bad-value', at);
  return f;
}

export function encodeRequest(req: PlockWireRequest): { op: PlockOp; payload: Uint8Array } {
  const w = new WireWriter(64);
  switch (req.kind) {
    case 'lock':
      w.u32(req.token).u8((req.exclusive ? 1 : 0) | (req.wait ? 2 : 0));
      writeRange(w, req);
      return { op: PlockOp.Lock, payload: w.finish() };
    case 'unlock':
      writeRange(w, req);
      return { op: PlockOp.Unlock, payload: w.finish() };
    case 'test':
      w.u8(req.exclusive ? 1 : 0);
      writeRange(w, req);
      return { op: PlockOp.Test, payload: w.finish() };
    case 'cancel':
      return { op: PlockOp.Cancel, payload: w.u32(req.token).finish() };
    case 'list':
      w.u8(req.inode === undefined ? 0 : 1);
      writeStr(w, req.space);
      if (req.inode !== undefined) w.u53(req.inode);
      return { op: PlockOp.List, payload: w.finish() };
  }
}

/** Decodes a request; an unknown op is a DecodeError ('bad-type'). */
export function decodeRequest(op: number, payload: Uint8Array): PlockWireRequest {
  const r = new WireReader(payload, 'plock request');
  let req: PlockWireRequest;
  switch (op) {
    case PlockOp.Lock: {
      const token = r.u32();
      const f = flags(r, 3);
      req = { kind: 'lock', token, exclusive: (f & 1) !== 0, wait: (f & 2) !== 0, ...readRange(r) };
      break;
    }
    case PlockOp.Unlock:
      req = { kind: 'unlock', ...readRange(r) };
      break;
    case PlockOp.Test: {
      const f = flags(r, 1);
      req = { kind: 'test', exclusive: f === 1, ...readRange(r) };
      break;
    }
    case PlockOp.Cancel:
      req = { kind: 'cancel', token: r.u32() };
      break;
    case PlockOp.List: {
      const has = flags(r, 1);
      const space = readStr(r);
      req = has ? { kind: 'list', space, inode: r.u53() } : { kind: 'list', space };
      break;
    }
    default:
      return r.fail('bad-type', 0);
  }
  r.end();
  return req;
}

function writeHolder(w: WireWriter, h: PlockHolder): void {
  writeStr(w, h.space);
  w.u53(h.inode)
    .u53(h.start)
    .u53(h.end)
    .u8(h.exclusive ? 1 : 0)
    .u32(h.nodeId)
    .u32(h.owner);
}

function readHolder(r: WireReader): PlockHolder {
  const space = readStr(r);
  const inode = r.u53();
  const start = r.u53();
  const end = r.u53();
  const exclusive = flags(r, 1) === 1;
  return { space, inode, start, end, exclusive, nodeId: r.u32(), owner: r.u32() };
}

export function encodeTestReply(h: PlockHolder | undefined): Uint8Array {
  const w = new WireWriter(64).u8(h ? 1 : 0);
  if (h) writeHolder(w, h);
  return w.finish();
}

export function decodeTestReply(payload: Uint8Array): PlockHolder | undefined {
  const r = new WireReader(payload, 'plock test reply');
  const h = flags(r, 1) ? readHolder(r) : undefined;
  r.end();
  return h;
}

export function encodeLostEvent(h: PlockHolder): Uint8Array {
  const w = new WireWriter(64);
  writeHolder(w, h);
  return w.finish();
}

export function decodeLostEvent(payload: Uint8Array): PlockHolder {
  const r = new WireReader(payload, 'plock lost event');
  const h = readHolder(r);
  r.end();
  return h;
}

export function encodeCancelReply(cancelled: boolean): Uint8Array {
  return Uint8Array.of(cancelled ? 1 : 0);
}

export function decodeCancelReply(payload: Uint8Array): boolean {
  const r = new WireReader(payload, 'plock cancel reply');
  const c = flags(r, 1) === 1;
  r.end();
  return c;
}

export function encodeListReply(holders: readonly PlockHolder[]): Uint8Array {
  const w = new WireWriter(64).u32(holders.length);
  for (const h of holders) writeHolder(w, h);
  return w.finish();
}

export function decodeListReply(payload: Uint8Array): PlockHolder[] {
  const r = new WireReader(payload, 'plock list reply');
  const n = r.u32();
  // The smallest holder is 2 + 3·8 + 1 + 8 bytes.
  if (n * 35 > r.remaining) r.fail('bad-count', 0);
  const out: PlockHolder[] = [];
  for (let i = 0; i < n; i++) out.push(readHolder(r));
  r.end();
  return out;
}

export function plockErrorText(code: PlockErrorCode, detail: string): string {
  return `PLOCK_${code}${detail ? `: ${detail}` : ''}`;
}

const TEXT = /PLOCK_([A-Z_]+)(?:: ([\s\S]*))?$/;

/** Finds plockErrorText in an error message; undefined when it is not one. */
export function parsePlockErrorText(text: string): { code: PlockErrorCode; detail: string } | undefined {
  const m = TEXT.exec(text);
  if (!m || !PLOCK_ERROR_CODES.includes(m[1] as PlockErrorCode)) return undefined;
  return { code: m[1] as PlockErrorCode, detail: m[2] ?? '' };
}
