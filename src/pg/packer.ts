/**
 * The sending half of pg: packs small messages into one frame and fragments large ones.
 *
 * Where a message's bytes go is decided from byte counts only: the message's total length,
 * the bytes already placed and the room left in the frame. The list of pieces is walked only
 * to copy bytes, so an empty piece anywhere can never change how frames are built.
 */

import { Guarantee } from '../core/io.js';
import { EV } from '../recorder/events/index.js';
import type { Recorder } from '../recorder/recorder.js';
import { assert } from './assert.js';
import {
  CHUNK_FIRST,
  CHUNK_LAST,
  CONTINUATION_HEADER_BYTES,
  FRAME_HEADER_BYTES,
  FrameBuilder,
  firstChunkHeaderBytes,
} from './frame.js';
import type { PackerFaults } from './internal-faults.js';

/** Why a frame was closed (recorded as enum pgFlush). */
export const FlushReason = {
  Full: 0,
  Token: 1,
  CountBound: 2,
  BytesBound: 3,
  GuaranteeSwitch: 4,
} as const;
export type FlushReason = (typeof FlushReason)[keyof typeof FlushReason];

export interface PackerConfig {
  /** Bytes in one frame (at most the ordering layer's maxPayload). */
  readonly frameSize: number;
  /** Close the frame once it holds this many chunks. */
  readonly maxPackedChunks: number;
  /** Close the frame once it holds this many bytes. */
  readonly maxPackedBytes: number;
}

/** Where closed frames go, in order. */
export type FrameSink = (frame: Uint8Array, guarantee: Guarantee) => void;

/** A continuation the sender believes it owes; only ever set under the 2008 fault. */
interface OwedContinuation {
  readonly msgId: number;
  readonly fragIndex: number;
}

const NO_BYTES = new Uint8Array(0);

export class FramePacker {
  private readonly builder: FrameBuilder;
  private stagedGuarantee: Guarantee = Guarantee.Agreed;
  private owed: OwedContinuation | null = null;

  constructor(
    private readonly config: PackerConfig,
    private readonly sink: FrameSink,
    private readonly recorder: Recorder,
    private readonly faults: PackerFaults = {},
  ) {
    this.builder = new FrameBuilder(config.frameSize);
    assert(
      config.maxPackedChunks >= 1 && config.maxPackedChunks <= 0xffff,
      'maxPackedChunks out of 1..65535',
    );
    assert(config.maxPackedBytes >= 1, 'maxPackedBytes must be positive');
  }

  /** Bytes in the frame being built (its header included), 0 when nothing is staged. */
  get stagedBytes(): number {
    return this.builder.isEmpty ? 0 : this.builder.bytesUsed;
  }

  get stagedChunks(): number {
    return this.builder.chunkCount;
  }

  /**
   * How many frames adding this message costs the ordering layer's send queue: the frames
   * closed while adding it, plus one if a frame is left staged (it will be flushed later, and
   * a staged frame's slot is reserved by the send that staged it).
   */
  framesNeeded(groupLen: number, pieces: readonly Uint8Array[], total: number, guarantee: Guarantee): number {
    return this.walk(0, groupLen, NO_BYTES, pieces, total, guarantee, false);
  }

  /** Places one message; closes every frame it fills. */
  add(
    msgId: number,
    group: Uint8Array,
    pieces: readonly Uint8Array[],
    total: number,
    guarantee: Guarantee,
  ): void {
    this.walk(msgId, group.length, group, pieces, total, guarantee, true);
  }

  /** Closes the staged frame, if any. */
  flush(reason: FlushReason): void {
    if (!this.builder.isEmpty) this.close(reason);
  }

  /**
   * One walk used both to count frames (apply = false) and to build them (apply = true), so
   * the queue-room check can never disagree with what is actually sent.
   */
  private walk(
    msgId: number,
    groupLen: number,
    group: Uint8Array,
    pieces: readonly Uint8Array[],
    total: number,
    guarantee: Guarantee,
    apply: boolean,
  ): number {
    const frameSize = this.config.frameSize;
    let used = this.builder.bytesUsed;
    let chunks = this.builder.chunkCount;
    let closed = 0;
    const close = (reason: FlushReason): void => {
      closed++;
      used = FRAME_HEADER_BYTES;
      chunks = 0;
      if (apply) this.close(reason);
    };
    if (chunks > 0 && guarantee !== this.stagedGuarantee) close(FlushReason.GuaranteeSwitch);
    if (apply) this.stagedGuarantee = guarantee;

    // Under the 2008 fault the message's bytes continue a message already finished.
    const owed = this.owed;
    let first = owed === null;
    const wireMsgId = owed === null ? msgId : owed.msgId;
    let fragIndex = owed === null ? 0 : owed.fragIndex;
    let placed = 0;
    let pieceIndex = 0;
    let pieceOffset = 0;
    let owedAfter: OwedContinuation | null = null;

    for (;;) {
      const header = first ? firstChunkHeaderBytes(groupLen) : CONTINUATION_HEADER_BYTES;
      const left = total - placed;
      const room = frameSize - used - header;
      if (room < 0 || (room === 0 && left > 0)) {
        assert(chunks > 0, 'an empty frame cannot hold a chunk header and one byte');
        close(FlushReason.Full);
        continue;
      }
      const take = Math.min(left, room);
      const full = take === room;
      let last = placed + take === total;
      if (full && last && this.faults.moreFollowsByPiecePosition) {
        last = !pieceListSaysMoreFollows(pieces, placed + take);
      }
      if (apply) {
        const flags = (first ? CHUNK_FIRST : 0) | (last ? CHUNK_LAST : 0);
        this.builder.startChunk(flags, wireMsgId, first ? total : fragIndex, first ? group : NO_BYTES, take);
        let need = take;
        while (need > 0) {
          const piece = pieces[pieceIndex]!;
          const n = Math.min(need, piece.length - pieceOffset);
          if (n > 0) this.builder.appendData(piece.subarray(pieceOffset, pieceOffset + n));
          need -= n;
          pieceOffset += n;
          if (pieceOffset === piece.length) {
            pieceIndex++;
            pieceOffset = 0;
          }
        }
        this.recorder.rec(EV.PG_FRAG_TX, wireMsgId, fragIndex, take, flags);
      }
      used += header + take;
      chunks++;
      placed += take;
      if (full) close(FlushReason.Full);
      if (placed === total) {
        if (!last) owedAfter = { msgId: wireMsgId, fragIndex: fragIndex + 1 };
        break;
      }
      first = false;
      fragIndex++;
    }
    if (apply) this.owed = owedAfter;

    if (chunks >= this.config.maxPackedChunks) close(FlushReason.CountBound);
    else if (chunks > 0 && used >= this.config.maxPackedBytes) close(FlushReason.BytesBound);
    return closed + (chunks > 0 ? 1 : 0);
  }

  private close(reason: FlushReason): void {
    const chunks = this.builder.chunkCount;
    const frame = this.builder.finish();
    this.recorder.rec(EV.PG_FRAME_TX, frame.length, chunks, reason, this.stagedGuarantee);
    this.sink(frame, this.stagedGuarantee);
  }
}

/**
 * The faulty 2008 test, for the fault injection only: after `consumed` bytes, is the piece
 * holding the last byte copied the last piece, with nothing left in it?
 */
function pieceListSaysMoreFollows(pieces: readonly Uint8Array[], consumed: number): boolean {
  let index = 0;
  let seen = 0;
  for (let i = 0; i < pieces.length; i++) {
    const len = pieces[i]!.length;
    if (len > 0 && seen < consumed) index = i;
    seen += len;
  }
  let before = 0;
  for (let i = 0; i < index; i++) before += pieces[i]!.length;
  const bytesLeftInPiece = (pieces[index]?.length ?? 0) - (consumed - before);
  return index < pieces.length - 1 || bytesLeftInPiece > 0;
}
