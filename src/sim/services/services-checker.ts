/**
 * The checker of the `services` core: the ordering-level checks of every configuration (the
 * core reports srp's configurations; the services' own messages are judged by the services'
 * state, not as workload messages), plus:
 *
 * - sync-liveness  after the fault-free settling period every live node has completed the sync
 *                  round of its final ring (no round left hanging or failed)
 *
 * and the invariants of the run's load (see load.ts; ckpt-invariants.ts for the ckpt load).
 */
import type { Configuration, NodeId, RingId } from '../../core/io.js';
import type { SyncRound } from '../../core/sync-participant.js';
import type { CkptDatabase } from '../../services/ckpt/database.js';
import type { ServiceStack } from '../../services/stack.js';
import type { RoundOutcome } from '../../sync/sync-engine.js';
import { InvariantChecker, type Violation } from '../checker.js';
import type { LoadClient, LoadInvariants, ServiceLoad } from './load.js';

interface Proc {
  readonly stack: ServiceStack;
  lastCompleted: string | undefined;
  cameAlong: readonly NodeId[];
}

const key = (r: RingId): string => `${r.rep}.${r.seq}`;

export class ServicesChecker extends InvariantChecker {
  readonly load: LoadInvariants;
  private readonly procs = new Map<NodeId, Proc>();
  readonly rounds = { completed: 0, aborted: 0, failed: 0 };
  private time = 0;

  constructor(load: ServiceLoad) {
    super();
    this.load = load.makeInvariants(
      (invariant, node, detail) => this.fail(invariant, node, detail),
      () => this.time,
    );
  }

  override setTime(now: number): void {
    super.setTime(now);
    this.time = now;
  }

  attach(node: NodeId, incarnation: number, stack: ServiceStack, client: LoadClient): void {
    this.procs.set(node, { stack, lastCompleted: undefined, cameAlong: [] });
    this.load.nodeStarted(node, incarnation, stack, client);
  }

  override nodeStopped(node: NodeId): void {
    super.nodeStopped(node);
    this.load.nodeStopped(node);
  }

  /** Every configuration srp delivered to the node, before pg and the sync engine see it. */
  servicesConfiguration(node: NodeId, conf: Configuration, stack: ServiceStack): void {
    const p = this.procs.get(node);
    if (!p || p.stack !== stack) return;
    if (conf.kind === 'transitional') {
      p.cameAlong = conf.members;
      return;
    }
    const along = p.cameAlong;
    p.cameAlong = [];
    this.load.regularConfiguration(node, conf, stack, along);
  }

  ckptActivated(node: NodeId, db: CkptDatabase, round: SyncRound): void {
    this.load.ckptActivated(node, db, round);
  }

  roundEnded(node: NodeId, outcome: RoundOutcome, ringId: RingId, stack: ServiceStack): void {
    this.rounds[outcome]++;
    const p = this.procs.get(node);
    if (p?.stack === stack && outcome === 'completed') p.lastCompleted = key(ringId);
    this.load.roundEnded(node, outcome, ringId, stack);
  }

  override finish(live: readonly NodeId[], settled: boolean): Violation | undefined {
    const v = super.finish(live, settled);
    if (v || !settled) return v;
    for (const node of live) {
      const p = this.procs.get(node);
      if (!p) continue;
      const ring = key(p.stack.srp.ringId);
      if (p.stack.sync.inProgress || p.lastCompleted !== ring) {
        this.fail(
          'sync-liveness',
          node,
          `ends in ring ${ring} with ${p.stack.sync.inProgress ? `its round still at ${p.stack.sync.currentService ?? 'the service lists'}` : `the last completed round ${p.lastCompleted ?? 'none'}`}`,
        );
        return this.violation;
      }
    }
    this.load.finish(live, settled);
    return this.violation;
  }
}
