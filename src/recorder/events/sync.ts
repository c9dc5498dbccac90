import { defineLayer } from '../event-spec.js';

/**
 * Sync engine events (ids 400..499). Ring ids are recorded as (rep, low 32 bits of seq).
 * Phases: 0 idle, 1 service-list build, 2 service. Abort causes: 0 configuration change,
 * 1 protocol error reported by a service.
 */
export const SYNC_EVENTS = defineLayer('sync', 400, 499, {
  ROUND_START: {
    id: 400,
    args: ['ringRep:n', 'ringSeq:u', 'members:u', 'transitional:u'],
    doc: 'a regular configuration started a sync round',
  },
  SERVICE_LIST_TX: {
    id: 401,
    args: ['ringSeq:u', 'services:u'],
    doc: "this node multicast its list of sync services for the round's agreed service list",
  },
  SERVICES_AGREED: {
    id: 402,
    args: ['ringSeq:u', 'services:u', 'local:u'],
    doc: 'every member sent its service list: the round walks their sorted union',
  },
  SERVICE_INIT: {
    id: 403,
    args: ['ringSeq:u', 'index:u', 'service:s', 'local:b'],
    doc: 'the round moved to a service (local 0: this node has no such service and only sends its barrier)',
  },
  PROCESS: {
    id: 404,
    args: ['index:u', 'more:b'],
    doc: "a service's syncProcess ran at a token visit",
  },
  BARRIER_TX: {
    id: 405,
    args: ['ringSeq:u', 'index:u'],
    doc: 'this node finished processing a service and multicast its barrier',
  },
  BARRIER_RX: {
    id: 406,
    args: ['sender:n', 'ringSeq:u', 'index:u', 'have:u'],
    doc: 'a barrier of the current round and service arrived (have: barriers in so far)',
  },
  ACTIVATE: {
    id: 407,
    args: ['ringSeq:u', 'index:u', 'service:s'],
    doc: "a service's syncActivate ran (the round's commit point)",
  },
  ROUND_DONE: {
    id: 408,
    args: ['ringRep:n', 'ringSeq:u', 'services:u'],
    doc: 'every service of the round was activated',
  },
  ROUND_ABORT: {
    id: 409,
    args: ['ringRep:n', 'ringSeq:u', 'phase:u', 'cause:u'],
    doc: 'a round was aborted: syncAbort ran on every participant and all round state was cleared',
  },
  STALE_DROPPED: {
    id: 410,
    args: ['sender:n', 'type:u', 'ringRep:n', 'ringSeq:u'],
    doc: 'a sync message of another ring (or of an aborted round) was dropped',
  },
  BAD_MESSAGE: {
    id: 411,
    args: ['sender:n', 'len:u', 'offset:u'],
    doc: 'a sync message failed to decode and was dropped',
  },
  UNEXPECTED: {
    id: 412,
    args: ['sender:n', 'type:u', 'index:u', 'phase:u'],
    doc: 'a sync message of the current ring arrived out of step (wrong phase or service) and was dropped',
  },
  SEND_DEFERRED: {
    id: 413,
    args: ['type:u', 'framesNeeded:u', 'room:u'],
    doc: 'the send queue refused a sync message; it is retried at the next token visit',
  },
  ROUND_FAILED: {
    id: 414,
    args: ['ringRep:n', 'ringSeq:u', 'service:s', 'reason:s'],
    doc: "a service found the round's data broken and failed the round (follows ROUND_ABORT cause 1)",
  },
});
