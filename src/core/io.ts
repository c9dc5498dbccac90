/**
 * The one small interface between a sans-IO protocol core and whatever drives it.
 *
 * The real runtime binds it to UDP sockets, timers and performance.now(); the simulator
 * binds it to a virtual network and clock. Cores never read the clock, randomness,
 * sockets or files: time arrives with every input (`now`, ms) and effects leave through
 * the Host.
 */

export type NodeId = number;

/** Destination meaning "every node" (multicast, or unicast to every configured node). */
export const BROADCAST: NodeId = 0;

/** Effects a protocol core asks of its driver. */
export interface Host {
  /** Sends one packet to one node, or to all (BROADCAST). Fire and forget: loss is normal. */
  send(to: NodeId, packet: Uint8Array): void;
  /** Arms (or re-arms) a named timer to fire `delayMs` after the current input's time. */
  setTimer(timer: number, delayMs: number): void;
  cancelTimer(timer: number): void;
  /** Stores the ring sequence number so that ring ids never go backwards across restarts. */
  persistRingSeq(seq: number): void;
}

/** Delivery guarantee chosen per message. */
export const Guarantee = {
  /** Delivered in total order once every earlier message is delivered. */
  Agreed: 0,
  /** Additionally delivered only once every member is known to hold it. */
  Safe: 1,
} as const;
export type Guarantee = (typeof Guarantee)[keyof typeof Guarantee];

export interface RingId {
  readonly rep: NodeId;
  readonly seq: number;
}

export interface Configuration {
  readonly kind: 'transitional' | 'regular';
  readonly ringId: RingId;
  /** Ascending node ids. */
  readonly members: readonly NodeId[];
  /** Transitional: the old members that did not come along. Regular: empty. */
  readonly left: readonly NodeId[];
  /** Regular: the new members that were not in the transitional configuration. */
  readonly joined: readonly NodeId[];
}

/** What the ordering layer hands to the layer above it (pg, and through it sync and services). */
export interface OrderedListener {
  /** The payload is read-only: it may share memory with a packet the ordering layer keeps. */
  deliver(sender: NodeId, payload: Uint8Array, guarantee: Guarantee, ringId: RingId, seq: number): void;
  configurationChange(conf: Configuration): void;
  /** This node holds the token: the last moment to stage packed messages for this visit. */
  tokenVisit(): void;
}

/** What the layer above can ask of the ordering layer. */
export interface OrderedChannel {
  /** Queues one frame for total-order multicast. False when the send queue is full. */
  mcast(payload: Uint8Array, guarantee: Guarantee): boolean;
  /** How many more frames the send queue accepts now. */
  sendQueueRoom(): number;
  /** The largest payload one frame may carry. */
  readonly maxPayload: number;
}
