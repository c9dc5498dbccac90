/**
 * Counts, on the frames a node originates, the shape the 2008 bug needed: a message whose last
 * byte is the frame's last byte, and among those the checkpoint sync SECTION messages, and the
 * empty ones (their last piece, the data, is empty). Scenarios and tests use the counts as
 * evidence that the shape really went over the wire.
 */
import type { NodeId } from '../../core/io.js';
import { CHUNK_FIRST, CHUNK_LAST, decodeFrame } from '../../pg/frame.js';
import { CKPT_GROUP } from '../../services/ckpt/ckpt-service.js';
import { SyncKind } from '../../services/ckpt/wire.js';
import { totemCodec } from '../../srp/codec.js';
import { MessageType } from '../../srp/messages.js';

const TYPE_OFFSET = 3;
const CKPT = new TextEncoder().encode(CKPT_GROUP);
const utf8 = new TextDecoder();
/** kind u8 · ring rep u32 · ring seq u64, then the checkpoint id's u16 length. */
const SECTION_ID_LENGTH_AT = 13;

/** Told of every checkpoint sync SECTION message the node originates, and of each exact fit. */
export interface SectionListener {
  section(ckptId: string, dataLength: number, exactFit: boolean): void;
}

interface Started {
  readonly section: boolean;
  readonly ckptId?: string;
  /** The section's data length, when the first chunk reaches it (-1: unknown). */
  readonly dataLength: number;
}

export class FrameWatch {
  readonly counts = { framesOriginated: 0, exactFits: 0, sectionExactFits: 0, emptySectionExactFits: 0 };
  private readonly started = new Map<number, Started>();
  private ring = '';
  private lastSeq = -1;

  constructor(
    private readonly nodeId: NodeId,
    private readonly frameSize: () => number,
    private readonly listener?: SectionListener,
  ) {}

  sent(packet: Uint8Array): void {
    if (packet[TYPE_OFFSET] !== MessageType.Mcast) return;
    let m: ReturnType<typeof totemCodec.decode>;
    try {
      m = totemCodec.decode(packet);
    } catch {
      return; // the world reports undecodable packets
    }
    if (m.type !== MessageType.Mcast || m.encapsulated || m.origin !== this.nodeId) return;
    const ring = `${m.ringId.rep}.${m.ringId.seq}`;
    if (ring === this.ring && m.seq <= this.lastSeq) return; // a retransmission
    this.ring = ring;
    this.lastSeq = m.seq;
    this.counts.framesOriginated++;
    let chunks: ReturnType<typeof decodeFrame>;
    try {
      chunks = decodeFrame(m.payload);
    } catch {
      return;
    }
    for (const c of chunks) {
      if ((c.flags & CHUNK_FIRST) !== 0) this.started.set(c.msgId, this.firstChunk(c.group, c.data));
    }
    const last = chunks[chunks.length - 1];
    const exact =
      last !== undefined && m.payload.length === this.frameSize() && (last.flags & CHUNK_LAST) !== 0;
    if (exact) {
      this.counts.exactFits++;
      const s = this.started.get(last.msgId);
      if (s?.section) {
        this.counts.sectionExactFits++;
        if (s.dataLength === 0) this.counts.emptySectionExactFits++;
      }
    }
    if (this.listener)
      for (const c of chunks) {
        if ((c.flags & CHUNK_LAST) === 0) continue;
        const s = this.started.get(c.msgId);
        if (s?.section && s.ckptId !== undefined)
          this.listener.section(s.ckptId, s.dataLength, exact && c === last);
      }
    for (const c of chunks) if ((c.flags & CHUNK_LAST) !== 0) this.started.delete(c.msgId);
  }

  private firstChunk(group: Uint8Array, data: Uint8Array): Started {
    if (group.length !== CKPT.length || !group.every((b, i) => b === CKPT[i]) || data[0] !== SyncKind.Section)
      return { section: false, dataLength: -1 };
    const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
    let at = SECTION_ID_LENGTH_AT;
    if (at + 2 > data.length) return { section: true, dataLength: -1 };
    const idLength = v.getUint16(at, true);
    const ckptId =
      at + 2 + idLength <= data.length ? utf8.decode(data.subarray(at + 2, at + 2 + idLength)) : undefined;
    at += 2 + idLength;
    const id = ckptId === undefined ? {} : { ckptId };
    if (at + 2 > data.length) return { section: true, ...id, dataLength: -1 };
    at += 2 + v.getUint16(at, true) + 16;
    if (at + 4 > data.length) return { section: true, ...id, dataLength: -1 };
    return { section: true, ...id, dataLength: v.getUint32(at, true) };
  }
}
