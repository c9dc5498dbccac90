import { defineLayer } from '../event-spec.js';

/**
 * Process-group layer events (ids 300..399).
 *
 * SEND and DELIVER are read by `totem fplay check` (lost or merged messages);
 * their argument order is a contract with src/recorder/check.ts.
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
});
