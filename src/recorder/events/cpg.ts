import { defineLayer } from '../event-spec.js';

/**
 * Closed-process-group service events (ids 500..599). Group names are interned strings.
 * Every membership change this node applies is recorded (PROC_ADD / PROC_REMOVE), so two
 * nodes' rings can be compared for the same member lists.
 */
export const CPG_EVENTS = defineLayer('cpg', 500, 599, {
  JOIN_REQ: {
    id: 500,
    args: ['conn:u', 'pid:u', 'group:s', 'result:e:ipcError'],
    doc: 'a local client asked to join a group',
  },
  LEAVE_REQ: {
    id: 501,
    args: ['conn:u', 'pid:u', 'group:s', 'result:e:ipcError'],
    doc: 'a local client asked to leave a group',
  },
  MCAST_REQ: {
    id: 502,
    args: ['conn:u', 'group:s', 'len:u', 'result:e:ipcError'],
    doc: 'a local client asked to multicast to a group',
  },
  PROC_ADD: {
    id: 503,
    args: ['node:n', 'pid:u', 'group:s', 'reason:e:cpgReason'],
    doc: 'a process became a member of a group on this node',
  },
  PROC_REMOVE: {
    id: 504,
    args: ['node:n', 'pid:u', 'group:s', 'reason:e:cpgReason'],
    doc: 'a process stopped being a member of a group on this node',
  },
  DELIVER: {
    id: 505,
    args: ['node:n', 'pid:u', 'group:s', 'len:u'],
    doc: 'a group message was delivered to local members',
  },
  UNKNOWN_SENDER: {
    id: 506,
    args: ['node:n', 'pid:u', 'group:s', 'kind:u'],
    doc: 'a message from a process not in the group was dropped',
  },
  MSG_BAD: {
    id: 507,
    args: ['sender:n', 'code:e:pgDecodeError', 'offset:u', 'len:u'],
    doc: 'a cpg exec message failed to decode and was dropped',
  },
  SYNC_INIT: {
    id: 508,
    args: ['ringRep:n', 'ringSeq:u', 'members:u', 'down:u'],
    doc: 'a sync round started',
  },
  JOINLIST_TX: { id: 509, args: ['ringRep:n', 'ringSeq:u', 'entries:u'], doc: 'this node sent its joinlist' },
  JOINLIST_RX: {
    id: 510,
    args: ['sender:n', 'ringRep:n', 'ringSeq:u', 'entries:u'],
    doc: 'a joinlist of the current round was stored',
  },
  JOINLIST_STALE: {
    id: 511,
    args: ['sender:n', 'ringRep:n', 'ringSeq:u'],
    doc: 'a joinlist of another round (or outside a round) was dropped',
  },
  SYNC_ACTIVATE: {
    id: 512,
    args: ['ringRep:n', 'ringSeq:u', 'processes:u', 'groups:u'],
    doc: 'a sync round committed; processes/groups known afterwards',
  },
  SYNC_ABORT: { id: 513, args: ['ringRep:n', 'ringSeq:u'], doc: 'a sync round was aborted' },
  CONFCHG: {
    id: 514,
    args: ['group:s', 'members:u', 'left:u', 'joined:u'],
    doc: 'a group configuration change was computed and sent to local members',
  },
  SEND_DEFERRED: {
    id: 515,
    args: ['kind:u', 'pending:u'],
    doc: 'an internal message (a process-down leave) waits for room or the end of sync',
  },
});
