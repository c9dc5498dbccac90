/**
 * The sync engine's wire messages (pg group "sync"), all little-endian:
 *
 *   header        = type u8 · ringRep u32 · ringSeq u64
 *   SERVICE_LIST  = header · count u16 · (nameLen u8 · name utf-8) × count
 *   BARRIER       = header · index u16 · nameLen u8 · name utf-8
 *
 * Every message carries the ring id of the round it belongs to, so a late one from an
 * aborted round is recognised and dropped.
 */

import type { RingId } from '../core/io.js';
import { WireReader } from '../wire/reader.js';
import { WireWriter } from '../wire/writer.js';

export const SyncMsgType = { ServiceList: 1, Barrier: 2 } as const;
export type SyncMsgType = (typeof SyncMsgType)[keyof typeof SyncMsgType];

export const MAX_SERVICES = 0xffff;
export const MAX_SERVICE_NAME_BYTES = 255;

export type SyncMessage =
  | {
      readonly type: typeof SyncMsgType.ServiceList;
      readonly ringId: RingId;
      readonly services: readonly string[];
    }
  | {
      readonly type: typeof SyncMsgType.Barrier;
      readonly ringId: RingId;
      readonly index: number;
      readonly service: string;
    };

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder('utf-8', { fatal: false });

function header(w: WireWriter, type: SyncMsgType, ringId: RingId): void {
  w.u8(type).u32(ringId.rep).u53(ringId.seq);
}

function name(w: WireWriter, text: string): void {
  const bytes = utf8.encode(text);
  if (bytes.length > MAX_SERVICE_NAME_BYTES) throw new RangeError(`service name "${text}" is too long`);
  w.u8(bytes.length).bytes(bytes);
}

export function encodeSyncMessage(m: SyncMessage): Uint8Array {
  const w = new WireWriter(64);
  header(w, m.type, m.ringId);
  if (m.type === SyncMsgType.ServiceList) {
    if (m.services.length > MAX_SERVICES) throw new RangeError('too many sync services');
    w.u16(m.services.length);
    for (const s of m.services) name(w, s);
  } else {
    w.u16(m.index);
    name(w, m.service);
  }
  return w.finish();
}

/** Throws only DecodeError. */
export function decodeSyncMessage(bytes: Uint8Array): SyncMessage {
  const r = new WireReader(bytes, 'sync message');
  const type = r.u8();
  const ringId: RingId = { rep: r.u32(), seq: r.u53() };
  const readName = (): string => fromUtf8.decode(r.bytesView(r.u8()));
  if (type === SyncMsgType.ServiceList) {
    const count = r.u16();
    const services: string[] = [];
    for (let i = 0; i < count; i++) services.push(readName());
    r.end();
    return { type, ringId, services };
  }
  if (type === SyncMsgType.Barrier) {
    const index = r.u16();
    const service = readName();
    r.end();
    return { type, ringId, index, service };
  }
  return r.fail('bad-type', 0);
}

export function sameRing(a: RingId, b: RingId): boolean {
  return a.rep === b.rep && a.seq === b.seq;
}
