/**
 * The cpg requests, replies and events between a client and its daemon (the payloads of IPC
 * REQUEST / REPLY / EVENT frames with service id 2). The only encoder/decoder for them; both
 * the daemon's binding and the client library use it. Little-endian throughout.
 *
 *   requests   JOIN 1 / LEAVE 2 / MEMBERS 4:  groupLen u8 · group
 *              MCAST 3:  flags u8 (guarantee in bits 0-6, WAIT 0x80) · groupLen u8 · group · data (rest)
 *                        WAIT: when the send queue is full the daemon holds the request and
 *                        answers once the message is queued, instead of TRY_AGAIN at once
 *              GROUPS 5, LOCAL 6: empty
 *   replies    JOIN, LEAVE, MCAST: empty · MEMBERS: members · GROUPS: count u32 · (groupLen u8 · group · members) × count
 *              LOCAL: nodeId u32 · hasRing u8 · [ringRep u32 · ringSeq u64 · nodes]
 *   events     DELIVER 1:  nodeId u32 · pid u32 · guarantee u8 · groupLen u8 · group · data (rest)
 *              CONFCHG 2:  groupLen u8 · group · members · left · joined
 *              TOTEM 3:    ringRep u32 · ringSeq u64 · nodes
 *   members  = count u32 · (nodeId u32 · pid u32 · reason u8) × count
 *   nodes    = count u32 · nodeId u32 × count
 */
import type { Guarantee, NodeId, RingId } from '../../core/io.js';
import { WireReader } from '../../wire/reader.js';
import { WireWriter } from '../../wire/writer.js';
import type { CpgMember } from './cpg-service.js';
import { MAX_CPG_GROUP_BYTES, type Reason } from './limits.js';

export const CpgOp = { Join: 1, Leave: 2, Mcast: 3, Members: 4, Groups: 5, Local: 6 } as const;
export const CpgEvent = { Deliver: 1, Confchg: 2, Totem: 3 } as const;

const MEMBER_BYTES = 9;
const MAX_REASON = 5;

export interface DeliverEvent {
  readonly group: Uint8Array;
  readonly nodeId: NodeId;
  readonly pid: number;
  readonly guarantee: Guarantee;
  readonly data: Uint8Array;
}

export interface ConfchgEvent {
  readonly group: Uint8Array;
  readonly members: readonly CpgMember[];
  readonly left: readonly CpgMember[];
  readonly joined: readonly CpgMember[];
}

export interface TotemEvent {
  readonly ringId: RingId;
  readonly members: readonly NodeId[];
}

export interface LocalInfo {
  readonly nodeId: NodeId;
  readonly ring: TotemEvent | undefined;
}

export function encodeGroupRequest(group: Uint8Array): Uint8Array {
  return new WireWriter(1 + group.length).u8(group.length).bytes(group).finish();
}

export function decodeGroupRequest(payload: Uint8Array): Uint8Array {
  const r = new WireReader(payload, 'cpg group request');
  const group = readGroup(r);
  r.end();
  return group;
}

/** MCAST flag: hold the request while the send queue is full rather than answer TRY_AGAIN. */
export const MCAST_WAIT_FOR_ROOM = 0x80;

export function encodeMcastRequest(
  group: Uint8Array,
  guarantee: Guarantee,
  data: Uint8Array,
  waitForRoom = false,
): Uint8Array {
  return new WireWriter(2 + group.length + data.length)
    .u8(guarantee | (waitForRoom ? MCAST_WAIT_FOR_ROOM : 0))
    .u8(group.length)
    .bytes(group)
    .bytes(data)
    .finish();
}

export function decodeMcastRequest(payload: Uint8Array): {
  group: Uint8Array;
  guarantee: number;
  waitForRoom: boolean;
  data: Uint8Array;
} {
  const r = new WireReader(payload, 'cpg mcast request');
  const flags = r.u8();
  const group = readGroup(r);
  return {
    group,
    guarantee: flags & ~MCAST_WAIT_FOR_ROOM,
    waitForRoom: (flags & MCAST_WAIT_FOR_ROOM) !== 0,
    data: r.bytesView(r.remaining),
  };
}

export function decodeEmptyRequest(payload: Uint8Array): void {
  new WireReader(payload, 'cpg request').end();
}

export function encodeMembers(members: readonly CpgMember[]): Uint8Array {
  const w = new WireWriter(4 + members.length * MEMBER_BYTES);
  writeMembers(w, members);
  return w.finish();
}

export function decodeMembers(payload: Uint8Array): CpgMember[] {
  const r = new WireReader(payload, 'cpg members');
  const members = readMembers(r);
  r.end();
  return members;
}

export function encodeGroupsReply(
  groups: readonly { group: Uint8Array; members: readonly CpgMember[] }[],
): Uint8Array {
  const w = new WireWriter();
  w.u32(groups.length);
  for (const g of groups) {
    w.u8(g.group.length).bytes(g.group);
    writeMembers(w, g.members);
  }
  return w.finish();
}

export function decodeGroupsReply(payload: Uint8Array): { group: Uint8Array; members: CpgMember[] }[] {
  const r = new WireReader(payload, 'cpg groups');
  const count = r.u32();
  if (count > r.remaining / 6) r.fail('bad-count');
  const out: { group: Uint8Array; members: CpgMember[] }[] = [];
  for (let i = 0; i < count; i++) out.push({ group: readGroup(r), members: readMembers(r) });
  r.end();
  return out;
}

export function encodeLocalReply(info: LocalInfo): Uint8Array {
  const w = new WireWriter();
  w.u32(info.nodeId).u8(info.ring ? 1 : 0);
  if (info.ring) writeTotem(w, info.ring);
  return w.finish();
}

export function decodeLocalReply(payload: Uint8Array): LocalInfo {
  const r = new WireReader(payload, 'cpg local');
  const nodeId = r.u32();
  const has = r.u8();
  if (has > 1) r.fail('bad-value');
  const ring = has === 1 ? readTotem(r) : undefined;
  r.end();
  return { nodeId, ring };
}

export function encodeDeliverEvent(e: DeliverEvent): Uint8Array {
  return new WireWriter(12 + e.group.length + e.data.length)
    .u32(e.nodeId)
    .u32(e.pid)
    .u8(e.guarantee)
    .u8(e.group.length)
    .bytes(e.group)
    .bytes(e.data)
    .finish();
}

export function decodeDeliverEvent(payload: Uint8Array): DeliverEvent {
  const r = new WireReader(payload, 'cpg deliver event');
  const nodeId = r.u32();
  const pid = r.u32();
  const guarantee = r.u8();
  if (guarantee > 1) r.fail('bad-value');
  const group = readGroup(r);
  return { nodeId, pid, guarantee: guarantee as Guarantee, group, data: r.bytesView(r.remaining) };
}

export function encodeConfchgEvent(e: ConfchgEvent): Uint8Array {
  const w = new WireWriter();
  w.u8(e.group.length).bytes(e.group);
  writeMembers(w, e.members);
  writeMembers(w, e.left);
  writeMembers(w, e.joined);
  return w.finish();
}

export function decodeConfchgEvent(payload: Uint8Array): ConfchgEvent {
  const r = new WireReader(payload, 'cpg confchg event');
  const group = readGroup(r);
  const members = readMembers(r);
  const left = readMembers(r);
  const joined = readMembers(r);
  r.end();
  return { group, members, left, joined };
}

export function encodeTotemEvent(e: TotemEvent): Uint8Array {
  const w = new WireWriter();
  writeTotem(w, e);
  return w.finish();
}

export function decodeTotemEvent(payload: Uint8Array): TotemEvent {
  const r = new WireReader(payload, 'cpg totem event');
  const e = readTotem(r);
  r.end();
  return e;
}

function writeMembers(w: WireWriter, members: readonly CpgMember[]): void {
  w.u32(members.length);
  for (const m of members) w.u32(m.nodeId).u32(m.pid).u8(m.reason);
}

function readMembers(r: WireReader): CpgMember[] {
  const count = r.u32();
  if (count > r.remaining / MEMBER_BYTES) r.fail('bad-count');
  const out: CpgMember[] = [];
  for (let i = 0; i < count; i++) {
    const nodeId = r.u32();
    const pid = r.u32();
    const reason = r.u8();
    if (reason > MAX_REASON) r.fail('bad-value');
    out.push({ nodeId, pid, reason: reason as Reason });
  }
  return out;
}

function writeTotem(w: WireWriter, e: TotemEvent): void {
  w.u32(e.ringId.rep).u53(e.ringId.seq).u32(e.members.length);
  for (const n of e.members) w.u32(n);
}

function readTotem(r: WireReader): TotemEvent {
  const rep = r.u32();
  const seq = r.u53();
  const count = r.u32();
  if (count > r.remaining / 4) r.fail('bad-count');
  const members: NodeId[] = [];
  for (let i = 0; i < count; i++) members.push(r.u32());
  return { ringId: { rep, seq }, members };
}

function readGroup(r: WireReader): Uint8Array {
  const len = r.u8();
  if (len > MAX_CPG_GROUP_BYTES) r.fail('bad-length');
  return r.bytesView(len);
}
