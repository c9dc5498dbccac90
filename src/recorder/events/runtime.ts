import { defineLayer } from '../event-spec.js';

/** Events of the daemon's driver (ids 800..899): life cycle, control requests, persistence. */
export const RUNTIME_EVENTS = defineLayer('runtime', 800, 899, {
  START: {
    id: 800,
    args: ['nodeId:n', 'persistedRingSeq:u', 'token:u', 'consensus:u'],
    doc: 'the runtime started its node',
  },
  STOP: { id: 801, args: ['reason:s'], doc: 'the runtime is stopping' },
  SIGNAL: { id: 802, args: ['signal:s'], doc: 'the daemon received a signal' },
  RING_SEQ_SAVED: {
    id: 803,
    args: ['ringSeqHigh:u', 'ringSeqLow:u'],
    doc: 'ring seq written to the state dir',
  },
  CONTROL: { id: 804, args: ['op:s', 'ok:b'], doc: 'a control-socket request was answered' },
  LOAD_QUEUED: { id: 805, args: ['count:u', 'size:u'], doc: 'a test load was queued' },
  INTERNAL_ERROR: { id: 806, args: ['message:s'], doc: 'a protocol core threw; the daemon stops' },
  PARTITION: { id: 807, args: ['groups:u', 'myGroupSize:u'], doc: 'test-only partition filter changed' },
  GUARD_DROP: {
    id: 809,
    args: ['reason:e:runtimeGuard', 'from:n', 'len:u'],
    doc: 'a join or commit token naming an unconfigured node or an absurd ring seq was dropped before srp',
  },
  STATE: {
    id: 808,
    args: ['state:e:srpState', 'ringRep:n', 'ringSeq:u'],
    doc: 'the srp state seen after an input',
  },
});
