/**
 * Loads for the `services` core: what simulated clients do with the services of each node,
 * and what must hold of the services' replicated state. A load is chosen by name
 * (`totem sim --core services --load ckpt`); LOADS below is the registry.
 *
 * A load has three parts:
 * - services: anything the load needs on a node's stack beyond what the daemon builds is
 *   registered by `attach` (it runs once per process, after the stack is built and before srp
 *   starts, so `stack.sync.register(...)` is still allowed); the ckpt load needs nothing:
 *   the daemon's stack already has ckpt;
 * - a generator: `attach` makes one client per process, driven by the core's load timer
 *   (`step` every `stepMs` of virtual time while the run's workload period lasts), with a
 *   Prng seeded from the run's seed, node id and incarnation (the run stays replayable);
 * - a checker: `makeInvariants` makes one per run; the services checker hands it every
 *   process start and stop, every regular configuration (before the sync engine sees it),
 *   every sync activation and every round end, with the process's stack; it reports
 *   violations through `fail` (they stop the run like any other invariant, with the rings
 *   written and the replay command printed).
 *
 * Adding the plock load (once the daemon's stack builds the plock service):
 *   1. `src/sim/services/plock-load.ts`: a PlockClient (LoadClient) that takes and releases
 *      random locks (shared/exclusive, overlapping ranges, blocking and try) from a few pids
 *      on each node through the service's request API, recording every grant;
 *   2. PlockInvariants (LoadInvariants): no two conflicting locks granted at once across the
 *      cluster, every member's lock table identical after each completed round (roundCompleted),
 *      a crashed node's locks released, no waiter starved once the holder is gone (finish);
 *   3. `plockLoad(): ServiceLoad` added to LOADS in loads.ts (its `attach` registering the
 *      service with the sync engine only if the stack builder does not build it yet); replies
 *      reach the client through a `plockReply` method added to LoadClient (as `ckptReply`),
 *      wired in services-core.ts like onCkptReply. Then `--load plock` works in every form of
 *      `totem sim`, sweeps and scenarios included.
 */
import type { Configuration, NodeId, RingId } from '../../core/io.js';
import type { SyncRound } from '../../core/sync-participant.js';
import type { Recorder } from '../../recorder/recorder.js';
import type { CkptDatabase } from '../../services/ckpt/database.js';
import type { CkptReply } from '../../services/ckpt/types.js';
import type { PlockReply } from '../../services/plock/types.js';
import type { ServiceStack } from '../../services/stack.js';
import type { RoundOutcome } from '../../sync/sync-engine.js';
import type { Prng } from '../prng.js';

/** What a load's client sees of its node process. */
export interface LoadNode {
  readonly nodeId: NodeId;
  readonly incarnation: number;
  readonly stack: ServiceStack;
  readonly prng: Prng;
  readonly recorder: Recorder;
  /** False once the run's workload period is over: issue no new requests. */
  active(): boolean;
}

/** One simulated client process on one node. */
export interface LoadClient {
  /** The load timer fired: issue requests (or not). */
  step(now: number): void;
  /** A checkpoint reply for this node's clients. */
  ckptReply(reply: CkptReply): void;
  /** A plock reply for this node's clients (loads that use the plock service). */
  plockReply?(reply: PlockReply): void;
  /**
   * Work left once the workload period is over (locks to release): the load timer keeps
   * stepping the client while this says so (default: it stops with the workload period).
   */
  finishing?(): boolean;
  counters(): Readonly<Record<string, number>>;
  describe(): string;
}

/** Records a violation (returns false so checks can `return fail(...)`). */
export type Fail = (invariant: string, node: NodeId | undefined, detail: string) => false;

/** The run's checks of one load; every method may call `fail`. */
export interface LoadInvariants {
  nodeStarted(node: NodeId, incarnation: number, stack: ServiceStack, client: LoadClient): void;
  nodeStopped(node: NodeId): void;
  /**
   * A regular configuration reached the node (the sync engine starts a round right after);
   * `cameAlong` are the members of the transitional configuration just before it (none if none).
   */
  regularConfiguration(
    node: NodeId,
    conf: Configuration,
    stack: ServiceStack,
    cameAlong: readonly NodeId[],
  ): void;
  /** The checkpoint service activated a round's database (queued updates not applied yet). */
  ckptActivated(node: NodeId, db: CkptDatabase, round: SyncRound): void;
  /**
   * The node originated a checkpoint sync SECTION message (seen on the wire: its last chunk
   * was sent), with whether it ended exactly at its frame's end (the 2008 shape when empty).
   */
  sectionSent?(
    node: NodeId,
    stack: ServiceStack,
    ckptId: string,
    dataLength: number,
    exactFit: boolean,
  ): void;
  /** A sync round ended on the node. */
  roundEnded(node: NodeId, outcome: RoundOutcome, ringId: RingId, stack: ServiceStack): void;
  /** End of the run: `live` nodes are up; `settled` after a fault-free settling period. */
  finish(live: readonly NodeId[], settled: boolean): void;
  /** Figures for reports and tests. */
  counters(): Readonly<Record<string, number>>;
}

export interface ServiceLoad {
  readonly name: string;
  readonly summary: string;
  /** Virtual ms between two steps of a client. */
  readonly stepMs: number;
  /** The settings of the stack's plock service (the daemon's `plock { ownership }`). */
  readonly plock?: { readonly ownership: boolean };
  /** `now` reads the run's virtual clock (the time of the input being handled). */
  makeInvariants(fail: Fail, now: () => number): LoadInvariants;
  attach(node: LoadNode, invariants: LoadInvariants): LoadClient;
}
