/**
 * The plock service's wire messages (pg group "plock") and the lock-record encoding shared
 * with checkpoint sections; the only encoder and decoder. Integers little-endian; offsets u53;
 * strings u16 length + UTF-8.
 *
 *   OP       (1)  origin u32 · client u32 · reqId u32 · target u32 · op u8 (1 lock, 2 unlock, 3 cancel) ·
 *                 flags u8 (1 exclusive, 2 wait) · space str · inode u53 · start u53 · end u53 · owner u32
 *   CLOSE    (2)  origin u32 · client u32
 *   OWN      (3)  space str · inode u53
 *   HANDOVER (4)  space str · inode u53 · records
 *   HELLO    (5)  ringRep u32 · ringSeq u53 · initialized u8 · stateRep u32 · stateSeq u53 · stateCount u53 ·
 *                 stateDigest u32
 *   STORED   (6)  ringRep u32 · ringSeq u53
 *   records = nLocks u32 · lock × nLocks · nWaiters u32 · (lock · reqId u32) × nWaiters
 *   lock    = nodeId u32 · client u32 · owner u32 · start u53 · end u53 · exclusive u8
 */

import type { NodeId, RingId } from '../../core/io.js';
import { WireReader } from '../../wire/reader.js';
import { WireWriter } from '../../wire/writer.js';
import type { LockRecord, WaiterRecord } from './types.js';

export const MsgKind = { Op: 1, Close: 2, Own: 3, Handover: 4, Hello: 5, Stored: 6 } as const;
export type MsgKind = (typeof MsgKind)[keyof typeof MsgKind];

export const OpKind = { lock: 1, unlock: 2, cancel: 3 } as const;
export type OpName = keyof typeof OpKind;
const OP_NAMES: readonly (OpName | undefined)[] = [undefined, 'lock', 'unlock', 'cancel'];

const FLAG_EXCLUSIVE = 1;
const FLAG_WAIT = 2;
const LOCK_BYTES = 4 + 4 + 4 + 8 + 8 + 1;

export interface OpMessage {
  readonly kind: 'op';
  readonly op: OpName;
  readonly origin: NodeId;
  readonly client: number;
  readonly reqId: number;
  /** cancel: the reqId of the lock request to cancel; 0 otherwise. */
  readonly target: number;
  readonly exclusive: boolean;
  readonly wait: boolean;
  readonly space: string;
  readonly inode: number;
  readonly start: number;
  readonly end: number;
  readonly owner: number;
}

export interface Records {
  readonly locks: readonly LockRecord[];
  readonly waiters: readonly WaiterRecord[];
}

/** What a node's plock state is, as told in its HELLO: equal identities mean equal replicated state. */
export interface StateIdentity {
  readonly ring: RingId;
  /**
   * A fingerprint (u32) of the plock messages applied and the departures seen since that ring's
   * activation: equal identities mean the same history.
   */
  readonly count: number;
  /** A hash of those messages and configuration changes (equal counts can hide different histories). */
  readonly digest: number;
}

export type PlockMessage =
  | OpMessage
  | { readonly kind: 'close'; readonly origin: NodeId; readonly client: number }
  | { readonly kind: 'own'; readonly space: string; readonly inode: number }
  | { readonly kind: 'handover'; readonly space: string; readonly inode: number; readonly records: Records }
  | {
      readonly kind: 'hello';
      readonly ringId: RingId;
      readonly initialized: boolean;
      readonly state: StateIdentity;
      /** The sender's boot id: a changed one means it restarted and its clients' locks are gone. */
      readonly incarnation: number;
    }
  | { readonly kind: 'stored'; readonly ringId: RingId };

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder('utf-8', { fatal: true });

function str(w: WireWriter, s: string): void {
  const b = utf8.encode(s);
  if (b.length > 0xffff) throw new RangeError('string too long for the wire');
  w.u16(b.length).bytes(b);
}

function readStr(r: WireReader): string {
  const n = r.u16();
  const at = r.offset;
  try {
    return fromUtf8.decode(r.bytesView(n));
  } catch (e) {
    if (e instanceof TypeError) r.fail('bad-value', at);
    throw e;
  }
}

function range(r: WireReader): { start: number; end: number } {
  const at = r.offset;
  const start = r.u53();
  const end = r.u53();
  if (start > end) r.fail('bad-value', at);
  return { start, end };
}

export function encodeMessage(m: PlockMessage): Uint8Array {
  const w = new WireWriter(64);
  switch (m.kind) {
    case 'op':
      w.u8(MsgKind.Op).u32(m.origin).u32(m.client).u32(m.reqId).u32(m.target).u8(OpKind[m.op]);
      w.u8((m.exclusive ? FLAG_EXCLUSIVE : 0) | (m.wait ? FLAG_WAIT : 0));
      str(w, m.space);
      w.u53(m.inode).u53(m.start).u53(m.end).u32(m.owner);
      break;
    case 'close':
      w.u8(MsgKind.Close).u32(m.origin).u32(m.client);
      break;
    case 'own':
      w.u8(MsgKind.Own);
      str(w, m.space);
      w.u53(m.inode);
      break;
    case 'handover':
      w.u8(MsgKind.Handover);
      str(w, m.space);
      w.u53(m.inode);
      writeRecords(w, m.records);
      break;
    case 'hello':
      w.u8(MsgKind.Hello)
        .u32(m.ringId.rep)
        .u53(m.ringId.seq)
        .u8(m.initialized ? 1 : 0);
      w.u32(m.state.ring.rep).u53(m.state.ring.seq).u53(m.state.count).u32(m.state.digest);
      w.u32(m.incarnation);
      break;
    case 'stored':
      w.u8(MsgKind.Stored).u32(m.ringId.rep).u53(m.ringId.seq);
      break;
  }
  return w.finish();
}

/** Throws only DecodeError. */
export function decodeMessage(bytes: Uint8Array): PlockMessage {
  const r = new WireReader(bytes, 'plock message');
  const kind = r.u8();
  let m: PlockMessage;
  switch (kind) {
    case MsgKind.Op: {
      const origin = r.u32();
      const client = r.u32();
      const reqId = r.u32();
      const target = r.u32();
      const opAt = r.offset;
      const op = OP_NAMES[r.u8()] ?? r.fail('bad-type', opAt);
      const flagsAt = r.offset;
      const flags = r.u8();
      if (flags & ~(FLAG_EXCLUSIVE | FLAG_WAIT)) r.fail('bad-value', flagsAt);
      const space = readStr(r);
      const inode = r.u53();
      const { start, end } = range(r);
      const owner = r.u32();
      m = {
        kind: 'op',
        op,
        origin,
        client,
        reqId,
        target,
        exclusive: (flags & FLAG_EXCLUSIVE) !== 0,
        wait: (flags & FLAG_WAIT) !== 0,
        space,
        inode,
        start,
        end,
        owner,
      };
      break;
    }
    case MsgKind.Close:
      m = { kind: 'close', origin: r.u32(), client: r.u32() };
      break;
    case MsgKind.Own:
      m = { kind: 'own', space: readStr(r), inode: r.u53() };
      break;
    case MsgKind.Handover: {
      const space = readStr(r);
      const inode = r.u53();
      m = { kind: 'handover', space, inode, records: readRecords(r) };
      break;
    }
    case MsgKind.Hello: {
      const ringId = { rep: r.u32(), seq: r.u53() };
      const initAt = r.offset;
      const init = r.u8();
      if (init > 1) r.fail('bad-value', initAt);
      const state = { ring: { rep: r.u32(), seq: r.u53() }, count: r.u53(), digest: r.u32() };
      m = { kind: 'hello', ringId, initialized: init === 1, state, incarnation: r.u32() };
      break;
    }
    case MsgKind.Stored:
      m = { kind: 'stored', ringId: { rep: r.u32(), seq: r.u53() } };
      break;
    default:
      return r.fail('bad-type', 0);
  }
  r.end();
  return m;
}

function writeLock(w: WireWriter, l: LockRecord): void {
  w.u32(l.nodeId)
    .u32(l.client)
    .u32(l.owner)
    .u53(l.start)
    .u53(l.end)
    .u8(l.exclusive ? 1 : 0);
}

function readLock(r: WireReader): LockRecord {
  const nodeId = r.u32();
  const client = r.u32();
  const owner = r.u32();
  const { start, end } = range(r);
  const at = r.offset;
  const x = r.u8();
  if (x > 1) r.fail('bad-value', at);
  return { nodeId, client, owner, start, end, exclusive: x === 1 };
}

function writeRecords(w: WireWriter, rec: Records): void {
  w.u32(rec.locks.length);
  for (const l of rec.locks) writeLock(w, l);
  w.u32(rec.waiters.length);
  for (const x of rec.waiters) {
    writeLock(w, x);
    w.u32(x.reqId);
  }
}

function count(r: WireReader, each: number): number {
  const at = r.offset;
  const n = r.u32();
  if (n * each > r.remaining) r.fail('bad-count', at);
  return n;
}

function readRecords(r: WireReader): Records {
  const locks: LockRecord[] = [];
  for (let i = count(r, LOCK_BYTES); i > 0; i--) locks.push(readLock(r));
  const waiters: WaiterRecord[] = [];
  for (let i = count(r, LOCK_BYTES + 4); i > 0; i--) {
    const l = readLock(r);
    waiters.push({ ...l, reqId: r.u32() });
  }
  return { locks, waiters };
}

/** Checkpoint section data: the records of one resource; empty bytes when there are none. */
export function encodeRecords(rec: Records): Uint8Array {
  if (rec.locks.length === 0 && rec.waiters.length === 0) return new Uint8Array(0);
  const w = new WireWriter(64);
  writeRecords(w, rec);
  return w.finish();
}

/** Throws only DecodeError. */
export function decodeRecords(bytes: Uint8Array): Records {
  if (bytes.length === 0) return { locks: [], waiters: [] };
  const r = new WireReader(bytes, 'plock section');
  const rec = readRecords(r);
  r.end();
  return rec;
}

/** Lock space checkpoint and resource section names, as gfs_controld named them. */
export const CHECKPOINT_PREFIX = 'gfsplock.';

export function checkpointName(space: string): string {
  return `${CHECKPOINT_PREFIX}${space}`;
}

export function sectionName(inode: number, ownerNode: NodeId): string {
  return `r${inode}.${ownerNode}`;
}

const SECTION_RE = /^r(0|[1-9][0-9]{0,15})\.(0|[1-9][0-9]{0,9})$/;

/** Parses `r<inode>.<owner>`; undefined for anything else. */
export function parseSectionName(name: string): { inode: number; owner: NodeId } | undefined {
  const m = SECTION_RE.exec(name);
  if (!m) return undefined;
  const inode = Number(m[1]);
  const owner = Number(m[2]);
  if (!Number.isSafeInteger(inode) || owner > 0xffffffff) return undefined;
  return { inode, owner };
}
