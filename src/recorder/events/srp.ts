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
});
