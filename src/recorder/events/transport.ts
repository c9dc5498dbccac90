import { defineLayer } from '../event-spec.js';

/**
 * UDP transport events (ids 900..999). One TX per send call, one RX per accepted datagram,
 * one DROP per refused datagram (the reason says why; its bytes were not parsed further).
 */
export const TRANSPORT_EVENTS = defineLayer('transport', 900, 999, {
  OPEN: {
    id: 900,
    args: ['nodeId:n', 'port:u', 'mode:e:transportMode', 'cipher:e:cipher'],
    doc: 'the transport bound its socket(s)',
  },
  CLOSE: {
    id: 901,
    args: ['sent:u', 'received:u', 'dropped:u', 'sendErrors:u'],
    doc: 'the transport closed; totals since open',
  },
  TX: {
    id: 902,
    args: ['to:n', 'len:u', 'datagrams:u'],
    doc: 'a payload was sent (to 0 = every other node); len before the envelope',
  },
  RX: { id: 903, args: ['from:n', 'len:u'], doc: 'a datagram was accepted; len after the envelope' },
  DROP: {
    id: 904,
    args: ['reason:e:transportDrop', 'claimed:n', 'len:u', 'srcPort:u'],
    doc: 'a datagram was refused (claimed = sender id in its header, 0 if unreadable)',
  },
  SEND_ERROR: {
    id: 905,
    args: ['to:n', 'code:s', 'errno:i'],
    doc: 'a send failed (e.g. ECONNREFUSED from an ICMP port unreachable); the transport carries on',
  },
  SOCKET_ERROR: {
    id: 906,
    args: ['code:s', 'errno:i'],
    doc: 'the socket reported an error; the transport carries on',
  },
  BUFFERS: {
    id: 907,
    args: ['sendWanted:u', 'sendGot:u', 'recvWanted:u', 'recvGot:u'],
    doc: 'socket buffer sizes asked for and granted by the kernel',
  },
  FILTERED: {
    id: 908,
    args: ['from:n', 'to:n', 'len:u', 'outbound:b'],
    doc: 'the test-only packet filter dropped a datagram',
  },
  MCAST_JOIN: { id: 909, args: ['group:s', 'port:u'], doc: 'joined the multicast group' },
});
