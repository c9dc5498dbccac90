import { defineLayer } from '../event-spec.js';

/**
 * Plock service events (ids 700..799). `kind` is a request kind (0 lock, 1 unlock, 2 test,
 * 3 cancel, 4 list); `msg` a wire message kind (src/services/plock/wire.ts: 1 op, 2 close,
 * 3 own, 4 handover, 5 hello, 6 stored); `code` 0 for success, else 1 + the index in
 * PLOCK_ERROR_CODES; `inode` the low 32 bits of the inode.
 */
export const PLOCK_EVENTS = defineLayer('plock', 700, 799, {
  REQUEST: {
    id: 700,
    args: ['client:u', 'kind:u', 'reqId:u', 'inode:u'],
    doc: 'a local client request arrived',
  },
  RESPONSE: {
    id: 701,
    args: ['client:u', 'kind:u', 'reqId:u', 'code:u'],
    doc: 'a response went back to a local client',
  },
  TX: { id: 702, args: ['msg:u', 'len:u', 'inode:u'], doc: 'a plock message was multicast' },
  APPLY: {
    id: 703,
    args: ['sender:n', 'msg:u', 'reqId:u', 'inode:u'],
    doc: 'an ordered plock message was applied to the replicated lock state',
  },
  GRANT: {
    id: 704,
    args: ['node:n', 'client:u', 'reqId:u', 'inode:u'],
    doc: 'a waiting lock was granted (on every node holding the resource state)',
  },
  LOCAL: {
    id: 705,
    args: ['kind:u', 'client:u', 'reqId:u', 'inode:u'],
    doc: 'a request on a resource this node owns was handled locally, without the ring',
  },
  OWNER: {
    id: 706,
    args: ['space:s', 'inode:u', 'from:n', 'to:n'],
    doc: 'the owner of a resource changed (0: handled through the ring)',
  },
  BAD_MESSAGE: {
    id: 707,
    args: ['sender:n', 'len:u', 'offset:u'],
    doc: 'a plock message failed to decode and was dropped',
  },
  DEFERRED: {
    id: 708,
    args: ['sender:n', 'msg:u'],
    doc: 'a plock message waits for the sync round or the checkpoint',
  },
  RELEASE_NODE: {
    id: 709,
    args: ['node:n', 'resources:u', 'granted:u'],
    doc: 'a node left the configuration: its locks and waiters were released',
  },
  RELEASE_CLIENT: {
    id: 710,
    args: ['node:n', 'client:u', 'resources:u', 'granted:u'],
    doc: 'a client connection closed: its locks and waiters were released',
  },
  HELLO_RX: {
    id: 711,
    args: ['sender:n', 'initialized:b', 'stateSeq:u', 'stateCount:u'],
    doc: 'a sync HELLO of the current round arrived',
  },
  ACTIVATE: {
    id: 712,
    args: ['role:u', 'members:u', 'authority:n', 'keeper:n'],
    doc: 'sync round activated (role 0 kept state, 1 kept state and stores the checkpoint, 2 waits for the checkpoint, 3 fresh start)',
  },
  STORE_BEGIN: {
    id: 713,
    args: ['ringSeq:u', 'spaces:u', 'sections:u', 'empty:u'],
    doc: 'the keeper started writing the lock state to the gfsplock checkpoints',
  },
  STORED_TX: {
    id: 714,
    args: ['ringSeq:u', 'requests:u'],
    doc: 'the checkpoints are written: STORED multicast',
  },
  LOADED: {
    id: 715,
    args: ['spaces:u', 'resources:u', 'locks:u', 'replayed:u'],
    doc: 'a joiner rebuilt the lock state from the checkpoints and replayed the messages it held',
  },
  DISCARDED: {
    id: 716,
    args: ['resources:u', 'locks:u'],
    doc: 'this node lost the merge rule and threw away its lock state for the agreed one',
  },
  SYNC_ABORT: {
    id: 717,
    args: ['dropped:u', 'resubmitted:u'],
    doc: 'a round was aborted: held messages dropped, this node re-sent its own',
  },
  STORE_FAILED: {
    id: 718,
    args: ['code:u'],
    doc: 'a checkpoint write failed (AIS code); the store is retried',
  },
  SYNC_STALE: {
    id: 719,
    args: ['sender:n', 'msg:u', 'ringSeq:u'],
    doc: 'a HELLO or STORED of another ring was dropped',
  },
  BAD_SECTION: {
    id: 720,
    args: ['space:s', 'len:u'],
    doc: 'a checkpoint section could not be decoded while loading and was skipped',
  },
  LOST: {
    id: 721,
    args: ['client:u', 'inode:u', 'start:u', 'exclusive:u'],
    doc: 'a lock this node had granted to its client is not in the agreed state after a merge (the client is told LOST)',
  },
  SETTLING: {
    id: 722,
    args: ['ringSeq:u', 'left:u'],
    doc: 'a configuration change began: no lock is granted to a client until the state is agreed again',
  },
});
