import { defineLayer } from '../event-spec.js';

/**
 * Client IPC events (ids 1000..1099): one per connection opened, handshake, request, reply
 * and close, so a replay shows which client asked what and why a connection ended.
 */
export const IPC_EVENTS = defineLayer('ipc', 1000, 1099, {
  LISTEN: { id: 1000, args: ['mode:x', 'uid:i', 'gid:i'], doc: 'the IPC socket is listening' },
  CONN_OPEN: { id: 1001, args: ['conn:u'], doc: 'a client connected (before its handshake)' },
  HELLO: {
    id: 1002,
    args: ['conn:u', 'pid:u', 'version:u', 'name:s'],
    doc: 'a client completed the handshake',
  },
  REQUEST: {
    id: 1003,
    args: ['conn:u', 'service:u', 'op:u', 'reqId:u'],
    doc: 'a request was decoded and handed to its service',
  },
  REPLY: {
    id: 1004,
    args: ['conn:u', 'reqId:u', 'code:e:ipcError', 'len:u'],
    doc: 'a reply was queued to the client',
  },
  CLOSE: {
    id: 1005,
    args: ['conn:u', 'reason:e:ipcClose', 'detail:u', 'queued:u'],
    doc: 'a connection ended (detail: error code or frame length; queued: unsent bytes)',
  },
  FRAME_BAD: {
    id: 1006,
    args: ['conn:u', 'code:e:pgDecodeError', 'offset:u', 'len:u'],
    doc: 'a frame from a client failed to decode',
  },
  EVENT_TX: {
    id: 1007,
    args: ['conn:u', 'service:u', 'event:u', 'len:u'],
    doc: 'an event was queued to a client',
  },
});
