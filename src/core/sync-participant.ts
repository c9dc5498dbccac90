/**
 * The contract between the sync engine (src/sync) and every service that keeps replicated
 * state (cpg, ckpt, plock). Modelled on corosync's sync v2: on every regular configuration
 * the engine runs one round; services take part one after another; a barrier separates
 * them; activate is the only commit point; any configuration change aborts the round.
 *
 * A service sends its own sync messages through its own process group (pg) and receives
 * them through its normal delivery path; every sync message carries the round's ring id so
 * that a stale one (from an aborted round) is dropped and recorded.
 */
import type { NodeId, RingId } from './io.js';

export interface SyncRound {
  readonly ringId: RingId;
  /** The members of the new regular configuration, ascending. */
  readonly members: readonly NodeId[];
  /** The members that came from this node's previous configuration (the transitional one). */
  readonly transitional: readonly NodeId[];
}

export type SyncProgress = 'done' | 'more';

export interface SyncParticipant {
  /** A stable name (also the order key: the engine runs services in a fixed, agreed order). */
  readonly serviceName: string;
  /** A round starts: throw away any state of an earlier round, build what must be sent. */
  syncInit(round: SyncRound): void;
  /**
   * Send (some of) this node's sync messages. Called at each token visit until it returns
   * 'done'; returning 'more' is how a service yields when the send queue is full.
   */
  syncProcess(): SyncProgress;
  /** Every member finished this round: commit the agreed state. The only commit point. */
  syncActivate(): void;
  /** The round was aborted by a configuration change: forget everything of this round. */
  syncAbort(): void;
}
