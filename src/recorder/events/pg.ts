import { defineLayer } from '../event-spec.js';

/**
 * Process-group layer events (ids 300..399).
 *
 * SEND and DELIVER are read by `totem fplay check` (lost or merged messages);
 * their argument order is a contract with src/recorder/check.ts.
 * msgId is the sender-local message id carried on the wire, so a sender's SEND and every
 * member's DELIVER of the same message share it.
 */
export const PG_EVENTS = defineLayer('pg', 300, 399, {
  SEND: {
    id: 300,
    args: ['msgId:u', 'len:u', 'pieces:u', 'group:s'],
    doc: 'an application message was accepted for sending',
  },
  DELIVER: {
    id: 301,
    args: ['sender:n', 'msgId:u', 'len:u', 'group:s'],
    doc: 'a whole application message was delivered',
  },
  FRAG_TX: {
    id: 302,
    args: ['msgId:u', 'fragIndex:u', 'len:u', 'flags:x'],
    doc: 'one chunk of a message was packed into the frame being built (flags: 1 first, 2 last)',
  },
  FRAME_TX: {
    id: 303,
    args: ['len:u', 'chunks:u', 'reason:e:pgFlush', 'guarantee:u'],
    doc: 'a frame was closed and handed to the ordering layer (or queued for it)',
  },
  FRAME_RX: {
    id: 304,
    args: ['sender:n', 'len:u', 'chunks:u', 'seq:u'],
    doc: 'a frame was delivered by the ordering layer and decoded',
  },
  FRAG_RX: {
    id: 305,
    args: ['sender:n', 'msgId:u', 'fragIndex:u', 'len:u'],
    doc: 'one chunk of a message was taken from a received frame',
  },
  ASSEMBLED: {
    id: 306,
    args: ['sender:n', 'msgId:u', 'len:u', 'fragments:u'],
    doc: 'a message was assembled whole and its declared length verified',
  },
  ASSEMBLY_ERROR: {
    id: 307,
    args: ['sender:n', 'msgId:u', 'error:e:pgAssemblyError', 'detail:u'],
    doc: "a chunk did not fit the sender's pending assembly; the partial message was dropped",
  },
  PARTIAL_DROPPED: {
    id: 308,
    args: ['sender:n', 'msgId:u', 'bytesHeld:u', 'reason:e:pgDropReason'],
    doc: 'a partial assembly was discarded (sender left, bad frame, or this node joined)',
  },
  FRAME_BAD: {
    id: 309,
    args: ['sender:n', 'code:e:pgDecodeError', 'offset:u', 'len:u'],
    doc: 'a received frame failed to decode and was dropped',
  },
  SEND_REFUSED: {
    id: 310,
    args: ['reason:e:pgRefusal', 'len:u', 'framesNeeded:u', 'room:u'],
    doc: 'a send was refused (try again later, or message too large)',
  },
  FRAME_BLOCKED: {
    id: 311,
    args: ['waiting:u', 'room:u'],
    doc: 'the ordering layer refused a frame; frames wait in pg until the next token visit',
  },
  FRAG_SKIPPED: {
    id: 312,
    args: ['sender:n', 'msgId:u', 'fragIndex:u', 'len:u'],
    doc: 'a continuation of a message whose start this node never saw (it joined mid-message)',
  },
  CONF: {
    id: 313,
    args: ['kind:e:confKind', 'members:u', 'left:u', 'partialsDropped:u'],
    doc: 'a configuration change reached pg (partials of leavers dropped before it is passed up)',
  },
});
