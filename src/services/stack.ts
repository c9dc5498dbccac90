/**
 * The service stack of one node, built the way the daemon builds it and nothing else:
 *
 *   SrpNode → ProcessGroups → SyncEngine (syncOrderedListener) → CpgService, CkptService,
 *   PlockService (which keeps its gfsplock checkpoints through the CkptService)
 *
 * Sans-IO: the caller supplies the Host (transport, timers, ring-seq store), the recorder and
 * the clock-derived values (the checkpoint incarnation); this module only wires the layers.
 * The daemon (src/runtime) and the simulator's `services` core (src/sim/services) are its two
 * drivers, so a simulated node runs exactly the stack a real one runs.
 *
 * Order matters and is the contract:
 * - pg is the ordering layer's listener behind the sync engine: at a token visit the driver's
 *   own pump runs first, then cpg's pump, then the engine, then pg (what any of them queued
 *   leaves in this visit).
 * - cpg registers with the engine before ckpt, ckpt before plock (rounds visit services by
 *   name anyway); plock's pump runs after cpg's at a token visit.
 * - checkpoint replies to the plock service's own client id go to the plock service, the
 *   others to onCkptReply (the daemon routes them the same way).
 */
import type { Configuration, Host, NodeId, OrderedListener } from '../core/io.js';
import type { SyncRound } from '../core/sync-participant.js';
import { ProcessGroups, type ProcessGroupsOptions } from '../pg/process-groups.js';
import type { Recorder } from '../recorder/recorder.js';
import type { SrpConfig } from '../srp/config.js';
import { SrpNode } from '../srp/srp-node.js';
import { SyncEngine, syncOrderedListener } from '../sync/sync-engine.js';
import { CkptService } from './ckpt/ckpt-service.js';
import type { CkptDatabase } from './ckpt/database.js';
import type { CkptReply } from './ckpt/types.js';
import { CpgService } from './cpg/cpg-service.js';
import type { PlockLost } from './plock/plock-service.js';
import { PlockService } from './plock/plock-service.js';
import type { PlockReply } from './plock/types.js';

export interface ServiceStackOptions {
  readonly nodeId: NodeId;
  readonly srpConfig: SrpConfig;
  readonly host: Host;
  readonly recorder: Recorder;
  /** The ring seq stored through host.persistRingSeq before this process started. */
  readonly persistedRingSeq: number | undefined;
  /** Distinguishes this run of the node in checkpoint ids (the daemon: its start time in s). */
  readonly ckptIncarnation: number;
  readonly onCkptReply: (reply: CkptReply) => void;
  /** Sees every configuration srp delivers, before pg and the sync engine do. */
  readonly onConfiguration?: (conf: Configuration) => void;
  /** Runs first at each token visit (the daemon's built-in load group pumps here). */
  readonly beforeTokenVisit?: () => void;
  /** Observation only: the database a checkpoint sync round activated, before queued updates apply. */
  readonly onCkptActivated?: (db: CkptDatabase, round: SyncRound) => void;
  /** Runs once pg exists, before the sync engine joins (the daemon makes its load group here). */
  readonly withPg?: (pg: ProcessGroups) => void;
  /** Replies of the plock service to its clients (none: dropped). */
  readonly onPlockReply?: (reply: PlockReply) => void;
  /**
   * The plock service, with its settings (the daemon's `plock { ownership }`). The daemon always
   * runs it; absent here, the stack has none (the simulator's loads that do not use it keep
   * their runs as they were).
   */
  readonly plock?: {
    readonly ownership?: boolean;
    /** One value per start of the node (default: ckptIncarnation); the daemon draws it at random. */
    readonly incarnation?: number;
    readonly onLost?: (lost: PlockLost) => void;
  };
  /** Extra pg options (test-only fault switches). */
  readonly pg?: Omit<ProcessGroupsOptions, 'channel' | 'recorder' | 'nodeId'>;
}

export interface ServiceStack {
  readonly srp: SrpNode;
  readonly pg: ProcessGroups;
  readonly sync: SyncEngine;
  readonly cpg: CpgService;
  readonly ckpt: CkptService;
  readonly plock: PlockService | undefined;
}

export function buildServiceStack(opts: ServiceStackOptions): ServiceStack {
  // srp must exist before pg can use it as its channel: the listener forwards to one built later.
  let ordered!: OrderedListener;
  let cpg!: CpgService;
  let plock: PlockService | undefined;
  const listener: OrderedListener = {
    deliver: (sender, payload, guarantee, ringId, seq) =>
      ordered.deliver(sender, payload, guarantee, ringId, seq),
    configurationChange: (conf) => {
      opts.onConfiguration?.(conf);
      ordered.configurationChange(conf);
    },
    tokenVisit: () => {
      opts.beforeTokenVisit?.();
      cpg.pump();
      plock?.pump();
      ordered.tokenVisit();
    },
  };
  const srp = new SrpNode({
    nodeId: opts.nodeId,
    config: opts.srpConfig,
    host: opts.host,
    listener,
    recorder: opts.recorder,
    persistedRingSeq: opts.persistedRingSeq,
  });
  const pg = new ProcessGroups({ ...opts.pg, channel: srp, recorder: opts.recorder, nodeId: opts.nodeId });
  opts.withPg?.(pg);
  const sync = new SyncEngine({ pg, recorder: opts.recorder, nodeId: opts.nodeId });
  ordered = syncOrderedListener(pg, sync);
  cpg = new CpgService({ pg, recorder: opts.recorder, nodeId: opts.nodeId });
  sync.register(cpg);
  const ckpt = new CkptService({
    pg,
    recorder: opts.recorder,
    nodeId: opts.nodeId,
    sync,
    onReply: (reply) =>
      plock !== undefined && reply.client === plock.ckptClient
        ? plock.ckptReply(reply)
        : opts.onCkptReply(reply),
    incarnation: opts.ckptIncarnation,
    ...(opts.onCkptActivated ? { onActivated: opts.onCkptActivated } : {}),
  });
  sync.register(ckpt);
  if (opts.plock === undefined) return { srp, pg, sync, cpg, ckpt, plock };
  plock = new PlockService({
    pg,
    recorder: opts.recorder,
    nodeId: opts.nodeId,
    sync,
    ckpt,
    ownership: opts.plock.ownership ?? false,
    // A restart must look different to the others (its old locks are released): one value per start.
    incarnation: opts.plock.incarnation ?? opts.ckptIncarnation,
    onReply: (reply) => opts.onPlockReply?.(reply),
    ...(opts.plock.onLost ? { onLost: opts.plock.onLost } : {}),
  });
  sync.register(plock);
  return { srp, pg, sync, cpg, ckpt, plock };
}
