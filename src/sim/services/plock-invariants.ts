/**
 * The plock service's invariants under simulation (names as in failure reports), on top of
 * the checkpoint invariants (ckpt-invariants.ts: the gfsplock checkpoints are checkpoints like
 * any other, so their replicas are byte-identical after every round and what a round activates
 * is what its senders held):
 *
 * - plock-conflict       no two conflicting locks held at once, from the clients' grant/release
 *                        log in virtual time (src/load/lock-checker.ts). A lock ends when its
 *                        client sends the unlock, its connection closes, its process stops
 *                        (crash or leave), or its node's lock state is discarded for another
 *                        partition's at a merge. Without quorum, two partitions grant on their
 *                        own (gfs relies on fencing for that): a pair counts when both holders'
 *                        nodes were in one ring, past its sync round, at some moment of the
 *                        overlap (always when both are on one node)
 * - plock-tables-agree   after each completed sync round every member that kept its lock state
 *                        holds the same tables (resources handled through the ring, owners);
 *                        at the end of a settled run every live node does, all ready
 * - plock-leftover       at the end of a settled run no table holds a lock or a waiter (every
 *                        client released what it held and every wait was answered)
 * - plock-stuck          at the end of a settled run no blocking lock request is still waiting
 *                        (the bound: the fault-free settling period, minus the workload's tail)
 * - plock-answered       every other request was answered by then too
 * - plock-reply          replies are for requests made, with the codes the request allows
 */
import type { Configuration, NodeId, RingId } from '../../core/io.js';
import type { SyncRound } from '../../core/sync-participant.js';
import { checkLocks } from '../../load/lock-checker.js';
import { type HeldInterval, LockLog } from '../../load/lock-log.js';
import type { CkptDatabase } from '../../services/ckpt/database.js';
import { CHECKPOINT_PREFIX } from '../../services/plock/wire.js';
import type { ServiceStack } from '../../services/stack.js';
import type { RoundOutcome } from '../../sync/sync-engine.js';
import { CkptInvariants } from './ckpt-invariants.js';
import type { Fail, LoadClient, LoadInvariants } from './load.js';
import type { PlockLedger, PlockSimClient } from './plock-load.js';

/** A stretch of virtual time a node spent in one ring after completing its sync round. */
interface Segment {
  readonly ring: string;
  readonly from: number;
  to: number;
}

interface NodeTrack {
  readonly stack: ServiceStack;
  client: PlockSimClient | undefined;
  open: Segment | undefined;
}

const key = (r: RingId): string => `${r.rep}.${r.seq}`;

export class PlockInvariants implements LoadInvariants, PlockLedger {
  readonly log = new LockLog();
  readonly ckpt: CkptInvariants;
  private readonly nodes = new Map<NodeId, NodeTrack>();
  private readonly segments = new Map<NodeId, Segment[]>();
  /** ring -> the plock tables of the first member that completed its round with its state kept. */
  private readonly tables = new Map<string, { node: NodeId; dump: string }>();
  private readonly counts = {
    plockRoundsCompared: 0,
    plockStores: 0,
    roundsWithEmptyPlockSections: 0,
    plockSectionsSynced: 0,
    plockEmptySectionsSynced: 0,
    plockEmptySectionExactFits: 0,
    conflictingPairsAcrossPartitions: 0,
    intervals: 0,
  };

  constructor(
    readonly fail: Fail,
    readonly now: () => number,
  ) {
    this.ckpt = new CkptInvariants(fail);
  }

  counters(): Readonly<Record<string, number>> {
    return { ...this.ckpt.counters(), ...this.counts };
  }

  nodeStarted(node: NodeId, incarnation: number, stack: ServiceStack, client: LoadClient): void {
    this.ckpt.nodeStarted(node, incarnation, stack, client);
    this.nodes.set(node, { stack, client: client as PlockSimClient, open: undefined });
  }

  nodeStopped(node: NodeId): void {
    this.ckpt.nodeStopped(node);
    const t = this.nodes.get(node);
    if (!t) return;
    t.client?.stopped(this.now());
    this.closeSegment(t);
  }

  regularConfiguration(
    node: NodeId,
    conf: Configuration,
    stack: ServiceStack,
    cameAlong: readonly NodeId[],
  ): void {
    this.ckpt.regularConfiguration(node, conf, stack, cameAlong);
    const t = this.nodes.get(node);
    if (!t || t.stack !== stack) return;
    this.closeSegment(t);
    // The round about to run sends the checkpoints this node holds: count the 2008 shape's
    // raw material (gfsplock checkpoints with empty sections) when a round has joiners.
    if (conf.joined.length > 0 && emptyPlockSections(stack) > 0) this.counts.roundsWithEmptyPlockSections++;
  }

  sectionSent(
    _node: NodeId,
    stack: ServiceStack,
    ckptId: string,
    dataLength: number,
    exactFit: boolean,
  ): void {
    const c = stack.ckpt.database.byId.get(ckptId);
    if (!c?.name.startsWith(CHECKPOINT_PREFIX)) return;
    this.counts.plockSectionsSynced++;
    if (dataLength !== 0) return;
    this.counts.plockEmptySectionsSynced++;
    if (exactFit) this.counts.plockEmptySectionExactFits++;
  }

  ckptActivated(node: NodeId, db: CkptDatabase, round: SyncRound): void {
    this.ckpt.ckptActivated(node, db, round);
  }

  roundEnded(node: NodeId, outcome: RoundOutcome, ringId: RingId, stack: ServiceStack): void {
    this.ckpt.roundEnded(node, outcome, ringId, stack);
    const t = this.nodes.get(node);
    if (!t || t.stack !== stack || outcome !== 'completed') return;
    const now = this.now();
    t.client?.checkDiscard(now);
    const k = key(ringId);
    this.closeSegment(t);
    const seg = { ring: k, from: now, to: Number.POSITIVE_INFINITY };
    t.open = seg;
    let list = this.segments.get(node);
    if (!list) this.segments.set(node, (list = []));
    list.push(seg);
    // A member waiting for the keeper's checkpoint has no tables yet; the others are at the
    // same point of the total order (the round's activation) and must agree.
    if (!stack.plock?.ready) return;
    this.counts.plockRoundsCompared++;
    const dump = stack.plock.dump(false);
    const first = this.tables.get(k);
    if (!first) this.tables.set(k, { node, dump });
    else if (first.dump !== dump)
      this.fail(
        'plock-tables-agree',
        node,
        `after round ${k}: ${firstDifference(dump, first.dump)} (here) vs node ${first.node}`,
      );
  }

  private closeSegment(t: NodeTrack): void {
    if (t.open) t.open.to = this.now();
    t.open = undefined;
  }

  /** Both nodes in one ring, past its round, at some moment of [from, to). */
  private together(a: NodeId, b: NodeId, from: number, to: number): boolean {
    if (a === b) return true;
    const sa = this.segments.get(a) ?? [];
    const sb = this.segments.get(b) ?? [];
    for (const x of sa) {
      if (x.to <= from || x.from >= to) continue;
      for (const y of sb) {
        if (y.ring !== x.ring || y.to <= from || y.from >= to) continue;
        if (Math.max(x.from, y.from, from) < Math.min(x.to, y.to, to)) return true;
      }
    }
    return false;
  }

  private checkConflicts(): boolean {
    const intervals = this.log.intervals();
    this.counts.intervals = intervals.length;
    for (const c of checkLocks(intervals, 100000)) {
      const from = Math.max(c.a.from, c.b.from);
      const to = Math.min(c.a.to, c.b.to);
      if (!this.together(c.a.node, c.b.node, from, to)) {
        this.counts.conflictingPairsAcrossPartitions++;
        continue;
      }
      return this.fail('plock-conflict', c.b.node, `${c.message}${ringsOf(c.a, c.b, this.segments)}`);
    }
    return true;
  }

  finish(live: readonly NodeId[], settled: boolean): void {
    this.ckpt.finish(live, settled);
    if (!this.checkConflicts() || !settled) return;
    const now = this.now();
    for (const node of live) {
      const c = this.nodes.get(node)?.client;
      if (!c) continue;
      const late = c.unanswered();
      const wait = late.find((f) => f.kind === 'lock' && f.wait);
      if (wait) {
        this.fail(
          'plock-stuck',
          node,
          `owner ${wait.owner}'s blocking lock asked at ${wait.issuedAt.toFixed(1)} ms still waits after ${(now - wait.issuedAt).toFixed(0)} ms (${late.length} unanswered; ${c.describe()})`,
        );
        return;
      }
      if (late.length > 0) {
        const f = late[0]!;
        this.fail(
          'plock-answered',
          node,
          `owner ${f.owner}'s ${f.kind} asked at ${f.issuedAt.toFixed(1)} ms never answered (${late.length} unanswered)`,
        );
        return;
      }
    }
    let first: { node: NodeId; dump: string } | undefined;
    for (const node of live) {
      const t = this.nodes.get(node);
      if (!t) continue;
      const p = t.stack.plock;
      if (!p?.ready) {
        this.fail('plock-tables-agree', node, 'the plock service is not ready at the end of a settled run');
        return;
      }
      const full = p.dump(true);
      const busy = full.split('\n').find((l) => l.includes('locks=[') && !l.includes('locks=[] waiters=[]'));
      if (busy) {
        this.fail('plock-leftover', node, `no client holds or waits, yet: ${busy}`);
        return;
      }
      const dump = p.dump(false);
      if (!first) first = { node, dump };
      else if (first.dump !== dump) {
        this.fail(
          'plock-tables-agree',
          node,
          `at the end: ${firstDifference(dump, first.dump)} (here) vs node ${first.node}`,
        );
        return;
      }
    }
    const held = this.log.held().filter((h) => live.includes(h.node));
    if (held.length > 0)
      this.fail('plock-stuck', held[0]!.node, `a client still holds ${held[0]!.ownerKey}'s lock at the end`);
  }
}

function emptyPlockSections(stack: ServiceStack): number {
  let n = 0;
  for (const [name, c] of stack.ckpt.database.linked) {
    if (!name.startsWith(CHECKPOINT_PREFIX)) continue;
    for (const s of c.sections.values()) if (s.data.length === 0) n++;
  }
  return n;
}

function ringsOf(a: HeldInterval, b: HeldInterval, segments: ReadonlyMap<NodeId, Segment[]>): string {
  const show = (n: NodeId): string =>
    (segments.get(n) ?? [])
      .filter((s) => s.to > Math.min(a.from, b.from) && s.from < Math.max(a.to, b.to))
      .map((s) => `${s.ring}@${s.from.toFixed(0)}..${Number.isFinite(s.to) ? s.to.toFixed(0) : 'end'}`)
      .join(' ');
  return ` (rings of node ${a.node}: ${show(a.node)}; of node ${b.node}: ${show(b.node)})`;
}

function firstDifference(a: string, b: string): string {
  const la = a.split('\n');
  const lb = b.split('\n');
  for (let i = 0; i < Math.max(la.length, lb.length); i++)
    if (la[i] !== lb[i])
      return `'${(la[i] ?? '<none>').slice(0, 300)}' vs '${(lb[i] ?? '<none>').slice(0, 300)}'`;
  return 'tables differ';
}
