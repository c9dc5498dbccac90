import { defineLayer } from '../event-spec.js';

/**
 * Totem single-ring protocol events (ids 100..299).
 *
 * MCAST_TX, DELIVER, CONF, CONF_MEMBER and TOKEN_RX are read by `totem fplay check`;
 * their argument order is a contract with src/recorder/check.ts.
 */
export const SRP_EVENTS = defineLayer('srp', 100, 299, {
  MCAST_TX: {
    id: 100,
    args: ['ringRep:n', 'ringSeq:u', 'seq:u', 'len:u'],
    doc: 'a new message was given its ring sequence number and multicast',
  },
  DELIVER: {
    id: 101,
    args: ['ringRep:n', 'ringSeq:u', 'seq:u', 'sender:n'],
    doc: 'a message was delivered to the layer above (ring id is the ring it was ordered in)',
  },
  CONF: {
    id: 102,
    args: ['kind:e:confKind', 'ringRep:n', 'ringSeq:u', 'members:u'],
    doc: 'a configuration was delivered; CONF_MEMBER records follow',
  },
  CONF_MEMBER: {
    id: 103,
    args: ['ringRep:n', 'ringSeq:u', 'node:n', 'role:e:confRole'],
    doc: 'one node of the configuration just delivered',
  },
  TOKEN_RX: {
    id: 104,
    args: ['from:n', 'tokenSeq:u', 'seq:u', 'aru:u'],
    doc: 'the ordering token was accepted',
  },
  STATE: {
    id: 105,
    args: ['from:e:srpState', 'to:e:srpState', 'reason:e:srpReason', 'ringSeq:u'],
    doc: 'the membership state machine changed state',
  },
  MCAST_RX: {
    id: 106,
    args: ['from:n', 'seq:u', 'ringSeq:u', 'origin:n'],
    doc: 'a message of my ring was stored in the sort queue (origin 0 = recovery wrapper)',
  },
  TOKEN_TX: {
    id: 107,
    args: ['to:n', 'tokenSeq:u', 'seq:u', 'aru:u'],
    doc: 'the ordering token was forwarded',
  },
  RTR_REQUEST: {
    id: 108,
    args: ['seq:u', 'ringSeq:u', 'missCount:u', 'listLen:u'],
    doc: 'a missing message was put on the token retransmission list',
  },
  RETRANSMIT: {
    id: 109,
    args: ['seq:u', 'ringSeq:u', 'origin:n', 'len:u'],
    doc: 'a message was multicast again to serve a retransmission request',
  },
  JOIN_TX: {
    id: 110,
    args: ['procCount:u', 'failedCount:u', 'ringSeq:u', 'leave:b'],
    doc: 'a join (or leave) was multicast',
  },
  JOIN_RX: {
    id: 111,
    args: ['from:n', 'procCount:u', 'failedCount:u', 'ringSeq:u'],
    doc: 'a join was received',
  },
  MEMB_SET: {
    id: 112,
    args: ['set:e:srpSet', 'node:n', 'ringSeq:u'],
    doc: 'one node of a membership set, listed when GATHER is entered',
  },
  COMMIT_TX: {
    id: 113,
    args: ['to:n', 'tokenSeq:u', 'membIndex:u', 'ringSeq:u'],
    doc: 'the commit token was forwarded',
  },
  COMMIT_RX: {
    id: 114,
    args: ['from:n', 'tokenSeq:u', 'membIndex:u', 'ringSeq:u'],
    doc: 'a commit token was received',
  },
  MERGE_DETECT_TX: {
    id: 115,
    args: ['ringRep:n', 'ringSeq:u'],
    doc: 'the idle representative announced its ring',
  },
  MERGE_DETECT_RX: {
    id: 116,
    args: ['from:n', 'ringRep:n', 'ringSeq:u'],
    doc: 'a merge-detect was received',
  },
  HOLD_CANCEL_TX: {
    id: 117,
    args: ['ringRep:n', 'ringSeq:u'],
    doc: 'a token hold cancel was multicast (new data on an idle ring)',
  },
  HOLD_CANCEL_RX: {
    id: 118,
    args: ['from:n', 'held:b'],
    doc: 'a token hold cancel was received',
  },
  TOKEN_HOLD: {
    id: 119,
    args: ['tokenSeq:u', 'seq:u', 'unchanged:u'],
    doc: 'the representative holds the token on an idle ring',
  },
  TOKEN_RETRANSMIT: {
    id: 120,
    args: ['to:n', 'tokenSeq:u', 'type:e:srpMsgType'],
    doc: 'the last token was sent again (not seen again in time)',
  },
  DROP: {
    id: 121,
    args: ['reason:e:srpDrop', 'from:n', 'type:e:srpMsgType', 'detail:u'],
    doc: 'a packet was not used',
  },
  DECODE_ERROR: {
    id: 122,
    args: ['from:n', 'code:e:decodeError', 'offset:u', 'len:u'],
    doc: 'a packet could not be decoded',
  },
  RANGE_VIOLATION: {
    id: 123,
    args: ['kind:e:srpRange', 'a:u', 'b:u', 'c:u'],
    doc: 'a bounded protocol range was exceeded; the node re-forms the ring',
  },
  FAILED_TO_RECV: {
    id: 124,
    args: ['aruCount:u', 'aru:u', 'seq:u'],
    doc: 'this node keeps failing to receive and leaves the ring',
  },
  CONSENSUS: {
    id: 125,
    args: ['agreed:b', 'procCount:u', 'failedCount:u', 'newlyFailed:u'],
    doc: 'the consensus timer expired',
  },
  RECOVERY_ORIGINATE: {
    id: 126,
    args: ['count:u', 'lowRingAru:u', 'oldHigh:u', 'transCount:u'],
    doc: 'old-ring messages queued for re-origination in RECOVERY',
  },
  RECOVERY_PROGRESS: {
    id: 127,
    args: ['retransFlgCount:u', 'installSeq:u', 'aru:u', 'tokenAru:u'],
    doc: 'a token was processed in RECOVERY',
  },
  OLD_RING_RESTORE: {
    id: 128,
    args: ['aru:u', 'high:u', 'ringSeq:u'],
    doc: 'recovery failed; the old ring state was restored',
  },
  DELIVER_SKIP: {
    id: 129,
    args: ['seq:u', 'origin:n', 'ringSeq:u'],
    doc: 'an old-ring message past a hole from a node outside the transitional configuration was not delivered',
  },
  LEAVE: {
    id: 130,
    args: ['procCount:u', 'ringSeq:u'],
    doc: 'this node leaves the ring gracefully',
  },
  TOKEN_ORIGINATE: {
    id: 131,
    args: ['ringRep:n', 'ringSeq:u', 'retransFlg:b'],
    doc: 'the representative created the first token of a new ring',
  },
  COMMIT_CREATE: {
    id: 132,
    args: ['ringRep:n', 'ringSeq:u', 'members:u'],
    doc: 'the representative created a commit token',
  },
  FLOW: {
    id: 133,
    args: ['allowed:u', 'sent:u', 'fcc:u', 'backlog:u'],
    doc: 'flow control of one token visit',
  },
  OPERATIONAL_DELIVERY: {
    id: 134,
    args: ['beforeTrans:u', 'afterTrans:u', 'skipped:u', 'highRingDelivered:u'],
    doc: 'old-ring messages delivered while entering OPERATIONAL',
  },
  COMMIT_ENTRY: {
    id: 135,
    args: ['aru:u', 'high:u', 'highDelivered:u', 'receivedFlg:b'],
    doc: 'this node filled its commit-token entry for the old ring',
  },
  MCAST_RECOVERY_TX: {
    id: 136,
    args: ['seq:u', 'innerSeq:u', 'innerOrigin:n', 'len:u'],
    doc: 'an old-ring message was re-originated in RECOVERY inside a new-ring wrapper',
  },
});
