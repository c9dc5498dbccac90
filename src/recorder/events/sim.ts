import { defineLayer } from '../event-spec.js';

/**
 * Simulator events (ids 1100..1199), written into the ring of the node they concern so a
 * failing run's rings show the faults next to the protocol's reaction.
 */
export const SIM_EVENTS = defineLayer('sim', 1100, 1199, {
  START: {
    id: 1100,
    args: ['incarnation:u', 'persistedRingSeq:u', 'seedLow:u', 'nodes:u'],
    doc: 'the simulated process started (incarnation 1 is the first start)',
  },
  CRASH: {
    id: 1101,
    args: ['incarnation:u', 'graceful:b'],
    doc: 'the process stopped (kill, or leave then exit)',
  },
  PAUSE: {
    id: 1102,
    args: ['durationMs:u'],
    doc: 'the process stops running for a while (its timers fire late)',
  },
  RESUME: { id: 1103, args: ['lateInputs:u'], doc: 'the process runs again' },
  PARTITION: {
    id: 1104,
    args: ['component:u', 'components:u'],
    doc: 'the network split; this node is in the given component',
  },
  HEAL: { id: 1105, args: [], doc: 'every partition and blocked link of the network healed' },
  LINK_BLOCK: {
    id: 1106,
    args: ['from:n', 'to:n'],
    doc: 'packets from one node to another are dropped (one way)',
  },
  LINK_UNBLOCK: { id: 1107, args: ['from:n', 'to:n'], doc: 'a one-way link failure ended' },
  APP_SEND: {
    id: 1108,
    args: ['msgId:u', 'len:u', 'guarantee:u', 'accepted:b'],
    doc: 'the workload offered a message to the ordering core',
  },
  NET_DROP: {
    id: 1109,
    args: ['to:n', 'len:u'],
    doc: 'a datagram this node sent was lost or could not reach',
  },
  VIOLATION: { id: 1110, args: ['invariant:s', 'detail:s'], doc: 'an invariant checker failed the run here' },
  SETTLE: {
    id: 1111,
    args: ['settleMs:u'],
    doc: 'faults stopped: the network is whole and the cluster must settle',
  },
});
