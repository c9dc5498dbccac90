import type { Guarantee, NodeId, RingId } from '../core/io.js';
import { DecodeError } from '../wire/decode-error.js';
import { WireReader } from '../wire/reader.js';
import { allocBytes } from '../wire/slab.js';
import { WireWriter } from '../wire/writer.js';
import {
  type CommitEntry,
  type CommitTokenMessage,
  type JoinMessage,
  type McastMessage,
  MEMBERS_MAX,
  MessageType,
  RTR_ENTRIES_MAX,
  type RtrItem,
  type SrpCodec,
  type SrpMessage,
  type TokenMessage,
} from './messages.js';

/**
 * Totem's own little-endian layout (not corosync's).
 *
 * Header (9 bytes): u16 magic 0x7E70 · u8 version 1 · u8 type · u8 flags · u32 sender.
 * Flags: bit 0 = mcast is a recovery wrapper, bit 1 = join is a leave. A ring id is
 * u32 rep + u64 seq (12 bytes). An mcast carries its body length (payload, or the whole
 * wrapped old-ring mcast) so a truncated datagram is refused.
 */
export const MAGIC = 0x7e70;
export const VERSION = 1;
const HEADER_SIZE = 9;
const FLAG_ENCAPSULATED = 0x01;
const FLAG_LEAVE = 0x02;
const RING_ID_SIZE = 12;
/** origin, seq, ring id, guarantee, body length. */
const MCAST_FIELDS_SIZE = 4 + 4 + RING_ID_SIZE + 1 + 4;
const WHAT = 'srp';

function writeRingId(w: WireWriter, r: RingId): void {
  w.u32(r.rep).u53(r.seq);
}

/**
 * The ring id decoded last. Nearly every packet names the current ring, and a RingId is
 * never mutated (its fields are readonly), so equal ids share one object.
 */
let lastRingId: RingId = { rep: 0, seq: 0 };

function readRingId(r: WireReader): RingId {
  const rep = r.u32();
  const seq = r.u53();
  const last = lastRingId;
  if (last.rep === rep && last.seq === seq) return last;
  lastRingId = { rep, seq };
  return lastRingId;
}

function readBool(r: WireReader): boolean {
  const v = r.u8();
  if (v > 1) r.fail('bad-value', r.offset - 1);
  return v === 1;
}

function readNodeId(r: WireReader): NodeId {
  const v = r.u32();
  if (v === 0) r.fail('bad-value', r.offset - 4);
  return v;
}

/** A strictly ascending list of non-zero node ids. */
function readNodeList(r: WireReader, count: number): NodeId[] {
  r.need(count * 4);
  const out: NodeId[] = [];
  for (let i = 0; i < count; i++) {
    const id = readNodeId(r);
    if (i > 0 && id <= out[i - 1]!) r.fail('bad-value', r.offset - 4);
    out.push(id);
  }
  return out;
}

function writeHeader(w: WireWriter, type: number, flags: number, sender: NodeId): void {
  w.u16(MAGIC).u8(VERSION).u8(type).u8(flags).u32(sender);
}

function writeMcastBody(w: WireWriter, m: McastMessage): void {
  w.u32(m.origin).u32(m.seq);
  writeRingId(w, m.ringId);
  w.u8(m.guarantee);
  if (m.encapsulated) {
    if (m.encapsulated.encapsulated) throw new RangeError('a recovery wrapper cannot wrap another wrapper');
    const lengthAt = w.offset;
    w.u32(0);
    encodeInto(w, m.encapsulated);
    w.patchU32(lengthAt, w.offset - lengthAt - 4);
  } else w.u32(m.payload.length).bytes(m.payload);
}

function encodeInto(w: WireWriter, msg: SrpMessage): void {
  switch (msg.type) {
    case MessageType.Token: {
      if (msg.rtr.length > RTR_ENTRIES_MAX) throw new RangeError('token rtr list too long');
      writeHeader(w, msg.type, 0, msg.sender);
      w.u32(msg.seq).u32(msg.tokenSeq).u32(msg.aru).u32(msg.aruAddr);
      writeRingId(w, msg.ringId);
      w.u32(msg.backlog)
        .u32(msg.fcc)
        .u8(msg.retransFlg ? 1 : 0)
        .u16(msg.rtr.length);
      for (const item of msg.rtr) {
        writeRingId(w, item.ringId);
        w.u32(item.seq);
      }
      return;
    }
    case MessageType.Mcast:
      writeHeader(w, msg.type, msg.encapsulated ? FLAG_ENCAPSULATED : 0, msg.sender);
      writeMcastBody(w, msg);
      return;
    case MessageType.MergeDetect:
    case MessageType.TokenHoldCancel:
      writeHeader(w, msg.type, 0, msg.sender);
      writeRingId(w, msg.ringId);
      return;
    case MessageType.Join:
      if (msg.procList.length > MEMBERS_MAX || msg.failedList.length > MEMBERS_MAX)
        throw new RangeError('join list too long');
      writeHeader(w, msg.type, msg.leave ? FLAG_LEAVE : 0, msg.sender);
      w.u53(msg.ringSeq).u16(msg.procList.length).u16(msg.failedList.length);
      for (const id of msg.procList) w.u32(id);
      for (const id of msg.failedList) w.u32(id);
      return;
    case MessageType.CommitToken: {
      const n = msg.members.length;
      if (n === 0 || n > MEMBERS_MAX || msg.entries.length !== n) throw new RangeError('bad commit token');
      writeHeader(w, msg.type, 0, msg.sender);
      w.u32(msg.tokenSeq);
      writeRingId(w, msg.ringId);
      w.u8(msg.retransFlg ? 1 : 0)
        .u16(msg.membIndex)
        .u16(n);
      for (const id of msg.members) w.u32(id);
      for (const e of msg.entries) {
        writeRingId(w, e.ringId);
        w.u32(e.aru)
          .u32(e.highDelivered)
          .u8(e.receivedFlg ? 1 : 0);
      }
      return;
    }
  }
}

/**
 * The next n bytes as a view. A plain Uint8Array is viewed by constructor, which is cheaper
 * than subarray; anything else (a Buffer) through subarray, which keeps its class.
 */
function viewOf(r: WireReader, n: number): Uint8Array {
  const bytes = r.bytes;
  if (bytes.constructor !== Uint8Array) return r.bytesView(n);
  r.need(n);
  const v = new Uint8Array(bytes.buffer, bytes.byteOffset + r.offset, n);
  r.offset += n;
  return v;
}

function decodeMcast(
  r: WireReader,
  sender: NodeId,
  encapsulated: boolean,
  nested: boolean,
  copyPayload: boolean,
): McastMessage {
  const origin = readNodeId(r);
  const seq = r.u32();
  const ringId = readRingId(r);
  const g = r.u8();
  if (g > 1) r.fail('bad-value', r.offset - 1);
  const guarantee = g as Guarantee;
  // The length makes a truncated datagram detectable; the body must end exactly there.
  const length = r.u32();
  if (length !== r.remaining) r.fail('bad-length', r.offset - 4);
  if (!encapsulated) {
    const payload = copyPayload ? r.bytesView(length).slice() : viewOf(r, length);
    return { type: MessageType.Mcast, sender, origin, seq, ringId, guarantee, encapsulated: null, payload };
  }
  if (nested) r.fail('bad-value');
  const inner = decodeFrom(r, true, copyPayload);
  if (inner.type !== MessageType.Mcast || inner.encapsulated) r.fail('bad-type');
  return {
    type: MessageType.Mcast,
    sender,
    origin,
    seq,
    ringId,
    guarantee,
    encapsulated: inner,
    payload: new Uint8Array(0),
  };
}

function decodeFrom(r: WireReader, nested: boolean, copyPayload: boolean): SrpMessage {
  const start = r.offset;
  const magic = r.u16();
  if (magic !== MAGIC) r.fail('bad-magic', start);
  if (r.u8() !== VERSION) r.fail('bad-version', start + 2);
  const type = r.u8();
  const flags = r.u8();
  const sender = readNodeId(r);
  const allowedFlags =
    type === MessageType.Mcast ? FLAG_ENCAPSULATED : type === MessageType.Join ? FLAG_LEAVE : 0;
  if ((flags & ~allowedFlags) !== 0) r.fail('bad-value', start + 4);
  switch (type) {
    case MessageType.Token: {
      const seq = r.u32();
      const tokenSeq = r.u32();
      const aru = r.u32();
      const aruAddr = r.u32();
      const ringId = readRingId(r);
      const backlog = r.u32();
      const fcc = r.u32();
      const retransFlg = readBool(r);
      const count = r.u16();
      if (count > RTR_ENTRIES_MAX) r.fail('bad-count', r.offset - 2);
      r.need(count * (RING_ID_SIZE + 4));
      const rtr: RtrItem[] = [];
      for (let i = 0; i < count; i++) rtr.push({ ringId: readRingId(r), seq: r.u32() });
      const tok: TokenMessage = {
        type: MessageType.Token,
        sender,
        seq,
        tokenSeq,
        aru,
        aruAddr,
        ringId,
        backlog,
        fcc,
        retransFlg,
        rtr,
      };
      return tok;
    }
    case MessageType.Mcast:
      return decodeMcast(r, sender, (flags & FLAG_ENCAPSULATED) !== 0, nested, copyPayload);
    case MessageType.MergeDetect:
    case MessageType.TokenHoldCancel: {
      const ringId = readRingId(r);
      return { type, sender, ringId };
    }
    case MessageType.Join: {
      const ringSeq = r.u53();
      const procCount = r.u16();
      const failedCount = r.u16();
      if (procCount > MEMBERS_MAX || failedCount > MEMBERS_MAX) r.fail('bad-count', r.offset - 4);
      const procList = readNodeList(r, procCount);
      const failedList = readNodeList(r, failedCount);
      const join: JoinMessage = {
        type: MessageType.Join,
        sender,
        leave: (flags & FLAG_LEAVE) !== 0,
        ringSeq,
        procList,
        failedList,
      };
      return join;
    }
    case MessageType.CommitToken: {
      const tokenSeq = r.u32();
      const ringId = readRingId(r);
      const retransFlg = readBool(r);
      const membIndex = r.u16();
      const n = r.u16();
      if (n === 0 || n > MEMBERS_MAX) r.fail('bad-count', r.offset - 2);
      if (membIndex > n) r.fail('bad-value', r.offset - 4);
      r.need(n * 4 + n * (RING_ID_SIZE + 9));
      const members = readNodeList(r, n);
      if (!members.includes(ringId.rep)) r.fail('bad-value');
      const entries: CommitEntry[] = [];
      for (let i = 0; i < n; i++) {
        const entryRing = readRingId(r);
        const aru = r.u32();
        const highDelivered = r.u32();
        const receivedFlg = readBool(r);
        entries.push({ ringId: entryRing, aru, highDelivered, receivedFlg });
      }
      const commit: CommitTokenMessage = {
        type: MessageType.CommitToken,
        sender,
        tokenSeq,
        ringId,
        retransFlg,
        membIndex,
        members,
        entries,
      };
      return commit;
    }
    default:
      return r.fail('bad-type', start + 3);
  }
}

function put32(out: Uint8Array, at: number, v: number): void {
  out[at] = v;
  out[at + 1] = v >>> 8;
  out[at + 2] = v >>> 16;
  out[at + 3] = v >>> 24;
}

/** The hot path: a plain mcast written straight into a buffer of its exact size. */
function encodePlainMcast(m: McastMessage): Uint8Array {
  const ringSeq = m.ringId.seq;
  if (!Number.isSafeInteger(ringSeq) || ringSeq < 0) throw new RangeError(`u53 out of range: ${ringSeq}`);
  const out = allocBytes(HEADER_SIZE + MCAST_FIELDS_SIZE + m.payload.length);
  out[0] = MAGIC & 0xff;
  out[1] = MAGIC >>> 8;
  out[2] = VERSION;
  out[3] = MessageType.Mcast;
  out[4] = 0;
  put32(out, 5, m.sender);
  put32(out, 9, m.origin);
  put32(out, 13, m.seq);
  put32(out, 17, m.ringId.rep);
  put32(out, 21, ringSeq % 0x100000000);
  put32(out, 25, Math.floor(ringSeq / 0x100000000));
  out[29] = m.guarantee;
  put32(out, 30, m.payload.length);
  out.set(m.payload, 34);
  return out;
}

/** Token: header, seq, tokenSeq, aru, aruAddr, ring id, backlog, fcc, retransFlg, rtr count. */
const TOKEN_FIXED_SIZE = HEADER_SIZE + 16 + RING_ID_SIZE + 4 + 4 + 1 + 2;
const RTR_ITEM_SIZE = RING_ID_SIZE + 4;

function putRingId(out: Uint8Array, at: number, r: RingId): void {
  const seq = r.seq;
  if (!Number.isSafeInteger(seq) || seq < 0) throw new RangeError(`u53 out of range: ${seq}`);
  put32(out, at, r.rep);
  put32(out, at + 4, seq % 0x100000000);
  put32(out, at + 8, Math.floor(seq / 0x100000000));
}

/** The other hot path: a token (one per visit) written straight into a buffer of its exact size. */
function encodeToken(m: TokenMessage): Uint8Array {
  const rtr = m.rtr;
  if (rtr.length > RTR_ENTRIES_MAX) throw new RangeError('token rtr list too long');
  const out = allocBytes(TOKEN_FIXED_SIZE + rtr.length * RTR_ITEM_SIZE);
  out[0] = MAGIC & 0xff;
  out[1] = MAGIC >>> 8;
  out[2] = VERSION;
  out[3] = MessageType.Token;
  out[4] = 0;
  put32(out, 5, m.sender);
  put32(out, 9, m.seq);
  put32(out, 13, m.tokenSeq);
  put32(out, 17, m.aru);
  put32(out, 21, m.aruAddr);
  putRingId(out, 25, m.ringId);
  put32(out, 37, m.backlog);
  put32(out, 41, m.fcc);
  out[45] = m.retransFlg ? 1 : 0;
  out[46] = rtr.length;
  out[47] = rtr.length >>> 8;
  let at = TOKEN_FIXED_SIZE;
  for (const item of rtr) {
    putRingId(out, at, item.ringId);
    put32(out, at + RING_ID_SIZE, item.seq);
    at += RTR_ITEM_SIZE;
  }
  return out;
}

/**
 * One writer for every encode that is not a plain mcast nor a token: encoding never nests (a recovery
 * wrapper is written into the same writer), and finish() hands out a copy of exact size.
 */
const scratch = new WireWriter(512);

function decodeWith(bytes: Uint8Array, copyPayload: boolean): SrpMessage {
  const r = new WireReader(bytes, WHAT);
  try {
    const msg = decodeFrom(r, false, copyPayload);
    r.end();
    return msg;
  } catch (err) {
    if (err instanceof DecodeError) throw err;
    // Anything else would be a decoder bug; it must still surface as a DecodeError.
    throw new DecodeError('bad-value', WHAT, r.offset);
  }
}

/**
 * Decodes exactly as `totemCodec.decode` does (same checks, same errors), but an mcast's
 * payload is a view into `bytes`, not a copy: for a caller that only inspects the packet.
 */
export function decodeSharingPayload(bytes: Uint8Array): SrpMessage {
  return decodeWith(bytes, false);
}

/** The default codec. */
export const totemCodec: SrpCodec = {
  mcastOverhead: HEADER_SIZE + MCAST_FIELDS_SIZE,
  encode(msg: SrpMessage): Uint8Array {
    if (msg.type === MessageType.Mcast && !msg.encapsulated) return encodePlainMcast(msg);
    if (msg.type === MessageType.Token) return encodeToken(msg);
    scratch.reset();
    encodeInto(scratch, msg);
    return scratch.finish();
  },
  decode(bytes: Uint8Array): SrpMessage {
    return decodeWith(bytes, true);
  },
  decodeSharing: decodeSharingPayload,
};
