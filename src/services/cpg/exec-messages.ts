/**
 * The cpg service's own messages between nodes (sent through the pg group "cpg"; the cpg
 * group they concern is carried inside). The only encoder/decoder for them; little-endian.
 *
 *   PROCJOIN  0  pid u32 · conn u32 · reason u8 · groupLen u8 · group
 *   PROCLEAVE 1  pid u32 · conn u32 · reason u8 · groupLen u8 · group
 *   JOINLIST  2  ringRep u32 · ringSeq u64 · downCount u16 · node u32 × downCount
 *                · count u32 · (pid u32 · flags u8 · groupLen u8 · group) × count
 *   MCAST     3  pid u32 · conn u32 · groupLen u8 · group · data (rest)
 *
 * The sending node is not carried: pg tells the receiver who sent each message.
 */
import type { NodeId, RingId } from '../../core/io.js';
import { WireReader } from '../../wire/reader.js';
import { WireWriter } from '../../wire/writer.js';
import { MAX_CPG_GROUP_BYTES } from './limits.js';

export const ExecKind = { ProcJoin: 0, ProcLeave: 1, JoinList: 2, Mcast: 3 } as const;

/** The joinlist entry's process has asked to leave; its leave is still in flight. */
export const JOINLIST_LEAVING = 1;

export interface JoinListEntry {
  readonly pid: number;
  readonly group: Uint8Array;
  readonly leaving: boolean;
}

export type ExecMessage =
  | {
      readonly kind: 'procjoin' | 'procleave';
      readonly pid: number;
      readonly conn: number;
      readonly reason: number;
      readonly group: Uint8Array;
    }
  | {
      readonly kind: 'joinlist';
      readonly ringId: RingId;
      /** The nodes the sender saw go down since its last completed round. */
      readonly down: readonly NodeId[];
      readonly entries: readonly JoinListEntry[];
    }
  | {
      readonly kind: 'mcast';
      readonly pid: number;
      readonly conn: number;
      readonly group: Uint8Array;
      readonly data: Uint8Array;
    };

export function encodeProcMessage(
  kind: 'procjoin' | 'procleave',
  pid: number,
  conn: number,
  reason: number,
  group: Uint8Array,
): Uint8Array {
  const w = new WireWriter(12 + group.length);
  w.u8(kind === 'procjoin' ? ExecKind.ProcJoin : ExecKind.ProcLeave)
    .u32(pid)
    .u32(conn)
    .u8(reason);
  return w.u8(group.length).bytes(group).finish();
}

export function encodeJoinList(
  ringId: RingId,
  down: readonly NodeId[],
  entries: readonly JoinListEntry[],
): Uint8Array {
  const w = new WireWriter(19 + down.length * 4 + entries.length * 16);
  if (down.length > 0xffff) throw new RangeError(`downlist of ${down.length} nodes`);
  w.u8(ExecKind.JoinList).u32(ringId.rep).u53(ringId.seq).u16(down.length);
  for (const node of down) w.u32(node);
  w.u32(entries.length);
  for (const e of entries) {
    w.u32(e.pid)
      .u8(e.leaving ? JOINLIST_LEAVING : 0)
      .u8(e.group.length)
      .bytes(e.group);
  }
  return w.finish();
}

/** The header of a multicast; the data follows it as a separate pg piece (no copy). */
export function encodeMcastHeader(pid: number, conn: number, group: Uint8Array): Uint8Array {
  return new WireWriter(10 + group.length)
    .u8(ExecKind.Mcast)
    .u32(pid)
    .u32(conn)
    .u8(group.length)
    .bytes(group)
    .finish();
}

/** Throws only DecodeError. Views into `bytes` are returned (pg hands us a buffer we own). */
export function decodeExecMessage(bytes: Uint8Array): ExecMessage {
  const r = new WireReader(bytes, 'cpg exec message');
  const kind = r.u8();
  switch (kind) {
    case ExecKind.ProcJoin:
    case ExecKind.ProcLeave: {
      const pid = r.u32();
      const conn = r.u32();
      const reason = r.u8();
      const group = readGroup(r);
      r.end();
      return { kind: kind === ExecKind.ProcJoin ? 'procjoin' : 'procleave', pid, conn, reason, group };
    }
    case ExecKind.JoinList: {
      const rep = r.u32();
      const seq = r.u53();
      const downCount = r.u16();
      const down: NodeId[] = [];
      for (let i = 0; i < downCount; i++) down.push(r.u32());
      const count = r.u32();
      // Each entry takes at least 7 bytes: refuse a count the bytes cannot hold before allocating.
      if (count > r.remaining / 7) r.fail('bad-count');
      const entries: JoinListEntry[] = [];
      for (let i = 0; i < count; i++) {
        const pid = r.u32();
        const flags = r.u8();
        if ((flags & ~JOINLIST_LEAVING) !== 0) r.fail('bad-value');
        entries.push({ pid, group: readGroup(r), leaving: flags === JOINLIST_LEAVING });
      }
      r.end();
      return { kind: 'joinlist', ringId: { rep, seq }, down, entries };
    }
    case ExecKind.Mcast: {
      const pid = r.u32();
      const conn = r.u32();
      const group = readGroup(r);
      return { kind: 'mcast', pid, conn, group, data: r.bytesView(r.remaining) };
    }
    default:
      return r.fail('bad-type', 0);
  }
}

function readGroup(r: WireReader): Uint8Array {
  const len = r.u8();
  if (len === 0 || len > MAX_CPG_GROUP_BYTES) r.fail('bad-length');
  return r.bytesView(len);
}
