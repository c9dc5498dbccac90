import { defineLayer } from '../event-spec.js';

/**
 * Checkpoint service events (ids 600..699). `kind` is the wire kind of an operation or a
 * sync message (src/services/ckpt/wire.ts); `code` an AIS error code (1 = OK).
 */
export const CKPT_EVENTS = defineLayer('ckpt', 600, 699, {
  REQUEST: {
    id: 600,
    args: ['client:u', 'kind:u', 'reqId:u'],
    doc: 'a local client request arrived',
  },
  OP_TX: {
    id: 601,
    args: ['kind:u', 'reqId:u', 'len:u'],
    doc: 'an update was multicast to the ring',
  },
  OP_APPLY: {
    id: 602,
    args: ['origin:n', 'kind:u', 'reqId:u', 'code:u'],
    doc: 'an ordered update was applied to the replica',
  },
  RESPONSE: {
    id: 603,
    args: ['client:u', 'kind:u', 'reqId:u', 'code:u'],
    doc: 'a response went back to a local client',
  },
  EXPIRE_TX: {
    id: 604,
    args: ['kind:u', 'version:u'],
    doc: 'a local timer found a retention or section expiry due and multicast it as an ordered update',
  },
  SYNC_INIT: {
    id: 605,
    args: ['ringSeq:u', 'sender:b', 'groupSize:u', 'checkpoints:u'],
    doc: 'checkpoint sync started for a round (sender: this node sends its database)',
  },
  SYNC_TX: {
    id: 606,
    args: ['kind:u', 'len:u'],
    doc: 'a checkpoint sync message was multicast',
  },
  SYNC_RX: {
    id: 607,
    args: ['sender:n', 'kind:u', 'len:u'],
    doc: 'a checkpoint sync message of the current round was received',
  },
  SYNC_STALE: {
    id: 608,
    args: ['sender:n', 'kind:u', 'ringRep:n', 'ringSeq:u'],
    doc: 'a checkpoint sync message of another ring or of no running round was dropped',
  },
  SYNC_PROTOCOL_ERROR: {
    id: 609,
    args: ['sender:n', 'kind:u', 'error:u'],
    doc: 'a sync message broke the protocol (e.g. a section for an absent checkpoint): the round is aborted',
  },
  SYNC_ACTIVATE: {
    id: 610,
    args: ['checkpoints:u', 'sections:u', 'senders:u', 'conflicts:u'],
    doc: 'the merged sync database replaced the live one',
  },
  SYNC_ABORT: {
    id: 611,
    args: ['ringSeq:u', 'deferredDropped:u'],
    doc: 'checkpoint sync aborted: the sync database and deferred updates were thrown away',
  },
  BAD_MESSAGE: {
    id: 612,
    args: ['sender:n', 'len:u', 'offset:u'],
    doc: 'a checkpoint message failed to decode and was dropped',
  },
  DEFERRED: {
    id: 613,
    args: ['origin:n', 'kind:u', 'reqId:u'],
    doc: 'an update arrived during a sync round and waits for activation',
  },
  MERGE_CONFLICT: {
    id: 614,
    args: ['name:s', 'winner:n', 'loser:n'],
    doc: 'two senders had different copies of one checkpoint name; the merge rule picked one',
  },
  UPDATE_STALE: {
    id: 615,
    args: ['origin:n', 'kind:u', 'reqId:u', 'sentInRingSeq:u'],
    doc: 'an update sent in an earlier ring was ordered in this one: dropped on every member (its originator answers TRY_AGAIN)',
  },
});
