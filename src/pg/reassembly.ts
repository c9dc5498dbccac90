/**
 * The receiving half of pg: per-sender reassembly of the chunks in delivered frames.
 *
 * Every chunk is checked against what the sender's frames have declared so far. A chunk
 * that does not fit (a continuation with no message pending, of another message, out of
 * order, or bytes that disagree with the declared length) is a typed protocol error: the
 * sender's partial message is dropped and the error recorded. Nothing is ever glued to, or
 * split from, another message.
 */

import type { Guarantee, NodeId } from '../core/io.js';
import { EV } from '../recorder/events/index.js';
import type { Recorder } from '../recorder/recorder.js';
import { DECODE_ERROR_CODES, DecodeError } from '../wire/decode-error.js';
import { CHUNK_FIRST, CHUNK_LAST, type Chunk, decodeFrame } from './frame.js';

/** Index = value of the recorded enum pgAssemblyError. */
export const ASSEMBLY_ERRORS = [
  'orphan-continuation',
  'wrong-message',
  'fragment-gap',
  'length-overrun',
  'length-mismatch',
  'unfinished',
  'too-large',
  'full-but-unfinished',
] as const;
export type AssemblyError = (typeof ASSEMBLY_ERRORS)[number];

/** Index = value of the recorded enum pgDropReason. */
export const DropReason = { Left: 0, BadFrame: 1, SelfJoined: 2, SenderJoined: 3 } as const;
export type DropReason = (typeof DropReason)[keyof typeof DropReason];

export interface AssembledMessage {
  readonly sender: NodeId;
  readonly msgId: number;
  /** A view into the received frame: read it, do not keep or modify it. */
  readonly group: Uint8Array;
  readonly message: Uint8Array;
  readonly guarantee: Guarantee;
}

export interface ReassemblyStats {
  frames: number;
  chunks: number;
  messages: number;
  badFrames: number;
  assemblyErrors: number;
  partialsDropped: number;
  chunksSkipped: number;
}

interface Pending {
  readonly msgId: number;
  readonly group: Uint8Array;
  readonly buffer: Uint8Array;
  filled: number;
  nextFragIndex: number;
}

/** A sender's reassembly state; absent until its first FIRST chunk is seen. */
interface SenderState {
  pending: Pending | null;
}

export class Reassembly {
  private readonly senders = new Map<NodeId, SenderState>();
  readonly stats: ReassemblyStats = {
    frames: 0,
    chunks: 0,
    messages: 0,
    badFrames: 0,
    assemblyErrors: 0,
    partialsDropped: 0,
    chunksSkipped: 0,
  };
  /** Counts per error kind, for tests and status output. */
  readonly errorCounts = new Map<AssemblyError, number>();

  constructor(
    private readonly recorder: Recorder,
    private readonly maxMessageSize: number,
    private readonly deliver: (message: AssembledMessage) => void,
  ) {}

  /** Takes one frame delivered by the ordering layer. */
  frame(sender: NodeId, bytes: Uint8Array, guarantee: Guarantee, seq: number): void {
    let chunks: Chunk[];
    try {
      chunks = decodeFrame(bytes);
    } catch (err) {
      if (!(err instanceof DecodeError)) throw err;
      this.stats.badFrames++;
      this.recorder.rec(
        EV.PG_FRAME_BAD,
        sender,
        DECODE_ERROR_CODES.indexOf(err.code),
        err.offset,
        bytes.length,
      );
      // A lost frame can hold the rest of the pending message: it can never complete. The
      // sender is known from now on, so a continuation after the loss is an error, not a skip.
      this.dropPartial(sender, DropReason.BadFrame);
      if (!this.senders.has(sender)) this.senders.set(sender, { pending: null });
      return;
    }
    this.stats.frames++;
    this.recorder.rec(EV.PG_FRAME_RX, sender, bytes.length, chunks.length, seq);
    for (const chunk of chunks) this.chunk(sender, chunk, guarantee);
  }

  /** Drops a sender's partial message (if any) and forgets the sender. Returns whether one was held. */
  forgetSender(sender: NodeId, reason: DropReason): boolean {
    const dropped = this.dropPartial(sender, reason);
    this.senders.delete(sender);
    return dropped;
  }

  /** Senders with a partial message held, ascending. */
  pendingSenders(): NodeId[] {
    return [...this.senders]
      .filter(([, s]) => s.pending !== null)
      .map(([n]) => n)
      .sort((a, b) => a - b);
  }

  knownSenders(): NodeId[] {
    return [...this.senders.keys()].sort((a, b) => a - b);
  }

  private chunk(sender: NodeId, chunk: Chunk, guarantee: Guarantee): void {
    this.stats.chunks++;
    this.recorder.rec(EV.PG_FRAG_RX, sender, chunk.msgId, chunk.fragIndex, chunk.data.length);
    const last = (chunk.flags & CHUNK_LAST) !== 0;
    if ((chunk.flags & CHUNK_FIRST) !== 0) {
      let state = this.senders.get(sender);
      if (state === undefined) {
        state = { pending: null };
        this.senders.set(sender, state);
      }
      if (state.pending !== null) {
        this.fail(sender, state, 'unfinished', state.pending.filled);
      }
      if (chunk.totalLen > this.maxMessageSize) {
        this.fail(sender, state, 'too-large', chunk.totalLen, chunk.msgId);
        return;
      }
      if (last) {
        this.complete(sender, chunk.msgId, chunk.group, chunk.data.slice(), 1, guarantee);
        return;
      }
      const buffer = new Uint8Array(chunk.totalLen);
      buffer.set(chunk.data, 0);
      state.pending = {
        msgId: chunk.msgId,
        group: chunk.group,
        buffer,
        filled: chunk.data.length,
        nextFragIndex: 1,
      };
      return;
    }

    const state = this.senders.get(sender);
    if (state === undefined) {
      // We never saw this sender start a message: we joined (or started) mid-message.
      this.stats.chunksSkipped++;
      this.recorder.rec(EV.PG_FRAG_SKIPPED, sender, chunk.msgId, chunk.fragIndex, chunk.data.length);
      return;
    }
    const pending = state.pending;
    if (pending === null) {
      this.fail(sender, state, 'orphan-continuation', chunk.fragIndex, chunk.msgId);
      return;
    }
    if (chunk.msgId !== pending.msgId) {
      this.fail(sender, state, 'wrong-message', chunk.msgId);
      return;
    }
    if (chunk.fragIndex !== pending.nextFragIndex) {
      this.fail(sender, state, 'fragment-gap', chunk.fragIndex);
      return;
    }
    if (pending.filled + chunk.data.length > pending.buffer.length) {
      this.fail(sender, state, 'length-overrun', pending.filled + chunk.data.length);
      return;
    }
    pending.buffer.set(chunk.data, pending.filled);
    pending.filled += chunk.data.length;
    pending.nextFragIndex++;
    if (!last) {
      // "More follows" with every declared byte already here is the 2008 lie: refuse it now.
      if (pending.filled === pending.buffer.length)
        this.fail(sender, state, 'full-but-unfinished', pending.filled);
      return;
    }
    state.pending = null;
    if (pending.filled !== pending.buffer.length) {
      this.recordError(sender, pending.msgId, 'length-mismatch', pending.filled);
      return;
    }
    this.complete(sender, pending.msgId, pending.group, pending.buffer, pending.nextFragIndex, guarantee);
  }

  private complete(
    sender: NodeId,
    msgId: number,
    group: Uint8Array,
    message: Uint8Array,
    fragments: number,
    guarantee: Guarantee,
  ): void {
    this.stats.messages++;
    this.recorder.rec(EV.PG_ASSEMBLED, sender, msgId, message.length, fragments);
    this.deliver({ sender, msgId, group, message, guarantee });
  }

  private fail(
    sender: NodeId,
    state: SenderState,
    error: AssemblyError,
    detail: number,
    msgId?: number,
  ): void {
    const id = msgId ?? state.pending?.msgId ?? 0;
    state.pending = null;
    this.recordError(sender, id, error, detail);
  }

  private recordError(sender: NodeId, msgId: number, error: AssemblyError, detail: number): void {
    this.stats.assemblyErrors++;
    this.errorCounts.set(error, (this.errorCounts.get(error) ?? 0) + 1);
    this.recorder.rec(EV.PG_ASSEMBLY_ERROR, sender, msgId, ASSEMBLY_ERRORS.indexOf(error), detail);
  }

  private dropPartial(sender: NodeId, reason: DropReason): boolean {
    const state = this.senders.get(sender);
    const pending = state?.pending;
    if (!state || !pending) return false;
    state.pending = null;
    this.stats.partialsDropped++;
    this.recorder.rec(EV.PG_PARTIAL_DROPPED, sender, pending.msgId, pending.filled, reason);
    return true;
  }
}
