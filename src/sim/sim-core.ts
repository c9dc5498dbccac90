/**
 * The small interface the simulator drives. Any ordering core (the real SrpNode through an
 * adapter, or a toy used to test the simulator itself) is created by a factory and then fed
 * inputs with the virtual time; its effects go through the Host it was given.
 */
import type { Guarantee, Host, NodeId, OrderedListener } from '../core/io.js';
import type { Recorder } from '../recorder/recorder.js';
import type { InvariantChecker } from './checker.js';

export interface SimCore {
  start(now: number): void;
  receive(now: number, from: NodeId, packet: Uint8Array): void;
  timerExpired(now: number, timer: number): void;
  /** Queues one application message; false when the send queue is full. */
  mcast(payload: Uint8Array, guarantee: Guarantee): boolean;
  sendQueueRoom(): number;
  /** Announces a graceful departure (the process stops right after). */
  leave(now: number): void;
  readonly maxPayload: number;
  /** A one-line state summary for failure reports. */
  describe(): string;
  /** The protocol state by name (e.g. OPERATIONAL), for scenarios that aim at a state. */
  phase(): string;
  /** Monotonic counters (messages recovered, tokens retransmitted, ...) for scenario checks. */
  counters(): Readonly<Record<string, number>>;
}

export interface SimCoreContext {
  readonly nodeId: NodeId;
  readonly host: Host;
  readonly listener: OrderedListener;
  readonly recorder: Recorder;
  /** The ring seq this node stored through host.persistRingSeq before it last stopped. */
  readonly persistedRingSeq: number | undefined;
  /** The run's checker (a core that checks above the ordering layer feeds it what it needs). */
  readonly checker: InvariantChecker;
  /** The run's seed and this process's incarnation (cores that draw their own load seed from them). */
  readonly seed: number;
  readonly incarnation: number;
  /** False once the run's workload period is over (a core's own load stops then). */
  workloadActive(): boolean;
}

export interface SimCoreFactory {
  readonly name: string;
  create(ctx: SimCoreContext): SimCore;
  /**
   * Decodes a packet the core just sent. The simulator never damages packets, so one that
   * does not decode is a defect of the core (invariant wire-decodable). The payloads let the
   * simulator track which node holds which message (the safe-delivery check). Never throws.
   */
  inspect(packet: Uint8Array): PacketInfo;
  /** Timeouts that scale the simulator's fault and liveness schedule. */
  readonly timing: CoreTiming;
  /** What kind of protocol packet this is (scenarios aim faults at tokens, joins, ...). */
  classify?(packet: Uint8Array): PacketKind;
  /** A checker of the core's own (default: the ordering-level InvariantChecker). */
  makeChecker?(): InvariantChecker;
}

export interface PacketInfo {
  /** The application payloads the packet carries (none for protocol-only packets). */
  readonly payloads: readonly Uint8Array[];
  /** Why the packet does not decode, if it does not. */
  readonly error?: string;
}

export type PacketKind = 'token' | 'mcast' | 'join' | 'commit' | 'merge' | 'other';

/** Makes a core factory, optionally with protocol settings overridden (numbers by name). */
export type CoreMaker = (overrides?: Readonly<Record<string, number>>) => SimCoreFactory;

export interface CoreTiming {
  /** Token (failure detection) timeout in ms. */
  readonly tokenMs: number;
  /** How long a node waits before resending a token it forwarded, ms. */
  readonly tokenRetransmitMs: number;
  /** A bound on how long a connected, fault-free cluster takes to agree and drain its queues. */
  readonly settleMs: number;
}
