/**
 * The checkpoint service's invariants under simulation (names as in failure reports):
 *
 * - ckpt-replicas-identical  every member that completes a sync round holds a byte-identical
 *                            database right after it (the round's merge plus the updates
 *                            ordered during the round): compared by a canonical digest of the
 *                            whole database (every section's bytes, attributes, versions,
 *                            reference counts, name table)
 * - ckpt-activate-partial    what a round activates is complete and is what its senders had:
 *                            the database each member activates is internally consistent and
 *                            equals the merge, by the documented rules (sender rule, ranking,
 *                            name conflicts, reference counts, dropping), of the databases the
 *                            senders held when the round began — an independent model of
 *                            sync-round.ts fed from the members' own replicas
 * - ckpt-ack-lost            an acknowledged change is never lost while its writer is up:
 *                            the owner client of each private checkpoint knows the exact
 *                            bytes its acknowledged changes left, and after every completed
 *                            round its node's replica holds them — unless the round's merge
 *                            took that checkpoint from another group's sender (the partition
 *                            merge rule of ckpt, counted as `writesLostToMerge`). When the
 *                            owner crashes, its writes are not followed on the other holders
 *                            (which of them received an agreed message is not known here)
 * - ckpt-answered            every request a client made was answered by the end of the run
 */
import type { Configuration, NodeId, RingId } from '../../core/io.js';
import type { SyncRound } from '../../core/sync-participant.js';
import type { Checkpoint, CkptDatabase } from '../../services/ckpt/database.js';
import type { CkptId } from '../../services/ckpt/types.js';
import type { ServiceStack } from '../../services/stack.js';
import type { RoundOutcome } from '../../sync/sync-engine.js';
import { checkpointContent, databaseDigest, databaseProblems, refsText } from './ckpt-digest.js';
import { CkptClient } from './ckpt-load.js';
import type { Fail, LoadClient, LoadInvariants } from './load.js';

interface HeldCheckpoint {
  readonly name: string;
  readonly unlinked: boolean;
  readonly content: string;
}

/** One member's database as a round began (it does not change until the round ends). */
interface Snapshot {
  readonly committed: readonly NodeId[];
  readonly checkpoints: ReadonlyMap<CkptId, HeldCheckpoint>;
  readonly handles: ReadonlyMap<CkptId, number>;
}

interface Expected {
  readonly content: string;
  readonly unlinked: boolean;
  readonly winner: NodeId;
  refs: string[];
}

interface RoundModel {
  readonly expected: Map<CkptId, Expected>;
  /** Each member's sender (the lowest of its group). */
  readonly senderOf: Map<NodeId, NodeId>;
  readonly description: string;
}

interface NodeTrack {
  readonly incarnation: number;
  readonly stack: ServiceStack;
  readonly client: CkptClient | undefined;
  up: boolean;
  /** Members of the last round this process activated that stayed with it since (the ckpt sender rule's group). */
  committed: NodeId[];
  lastCompleted: string | undefined;
}

export type PlantedFault = (node: NodeId, when: 'activated' | 'completed', db: CkptDatabase) => void;

const key = (r: RingId): string => `${r.rep}.${r.seq}`;

function snapshotOf(stack: ServiceStack, committed: readonly NodeId[]): Snapshot {
  const checkpoints = new Map<CkptId, HeldCheckpoint>();
  for (const c of stack.ckpt.database.byId.values())
    checkpoints.set(c.id, { name: c.name, unlinked: c.unlinked, content: checkpointContent(c) });
  return { committed: [...committed], checkpoints, handles: stack.ckpt.handleCounts() };
}

export class CkptInvariants implements LoadInvariants {
  private readonly nodes = new Map<NodeId, NodeTrack>();
  /** ring -> member -> its database when the round of that ring began there. */
  private readonly snapshots = new Map<string, Map<NodeId, Snapshot>>();
  private readonly models = new Map<string, RoundModel>();
  private readonly ringMembers = new Map<string, readonly NodeId[]>();
  /** ring -> the digest of the first member that completed its round (and who). */
  private readonly digests = new Map<string, { node: NodeId; digest: string }>();
  private readonly counts = {
    roundsChecked: 0,
    activationsChecked: 0,
    checkpointsCompared: 0,
    trackedSectionsChecked: 0,
    writesLostToMerge: 0,
    mergedRounds: 0,
  };

  constructor(
    private readonly fail: Fail,
    private readonly plant?: PlantedFault,
  ) {}

  counters(): Readonly<Record<string, number>> {
    return { ...this.counts };
  }

  nodeStarted(node: NodeId, incarnation: number, stack: ServiceStack, client: LoadClient): void {
    this.nodes.set(node, {
      incarnation,
      stack,
      client: client instanceof CkptClient ? client : undefined,
      up: true,
      committed: [node],
      lastCompleted: undefined,
    });
  }

  nodeStopped(node: NodeId): void {
    const t = this.nodes.get(node);
    if (t) t.up = false;
  }

  regularConfiguration(
    node: NodeId,
    conf: Configuration,
    stack: ServiceStack,
    cameAlong: readonly NodeId[],
  ): void {
    const t = this.nodes.get(node);
    if (!t || t.stack !== stack) return;
    // The group rule: holders of this node's database are those that never left it since.
    t.committed = t.committed.filter((n) => n === node || cameAlong.includes(n));
    const k = key(conf.ringId);
    let m = this.snapshots.get(k);
    if (!m) {
      m = new Map();
      this.snapshots.set(k, m);
    }
    m.set(node, snapshotOf(stack, t.committed));
  }

  ckptActivated(node: NodeId, db: CkptDatabase, round: SyncRound): void {
    this.plant?.(node, 'activated', db);
    this.counts.activationsChecked++;
    const k = key(round.ringId);
    this.ringMembers.set(k, round.members);
    const bad = databaseProblems(db);
    if (bad) {
      this.fail('ckpt-activate-partial', node, `ring ${k}: activated an inconsistent database: ${bad}`);
      return;
    }
    const model = this.modelOf(k, round.members);
    if (!model) {
      this.fail(
        'ckpt-activate-partial',
        node,
        `ring ${k}: a member's database at the round's start is unknown`,
      );
      return;
    }
    const seen = new Set<CkptId>();
    for (const c of db.byId.values()) {
      seen.add(c.id);
      const e = model.expected.get(c.id);
      if (!e) {
        this.fail(
          'ckpt-activate-partial',
          node,
          `ring ${k}: activated ${c.id} (${c.name}), which no sender held or the merge drops (${model.description})`,
        );
        return;
      }
      if (!this.sameAs(node, k, c, e, model)) return;
    }
    for (const [id, e] of model.expected)
      if (!seen.has(id)) {
        this.fail(
          'ckpt-activate-partial',
          node,
          `ring ${k}: ${id} of sender ${e.winner} is missing from the activated database (${model.description})`,
        );
        return;
      }
  }

  private sameAs(node: NodeId, k: string, c: Checkpoint, e: Expected, model: RoundModel): boolean {
    this.counts.checkpointsCompared++;
    const content = checkpointContent(c);
    if (content !== e.content)
      return this.fail(
        'ckpt-activate-partial',
        node,
        `ring ${k}: ${c.id} activated as ${content}, sender ${e.winner} had ${e.content} (${model.description})`,
      );
    if (c.unlinked !== e.unlinked)
      return this.fail(
        'ckpt-activate-partial',
        node,
        `ring ${k}: ${c.id} activated ${c.unlinked ? 'unlinked' : 'linked'}, the merge rule says ${e.unlinked ? 'unlinked' : 'linked'}`,
      );
    const refs = refsText(c);
    if (refs !== e.refs.join(','))
      return this.fail(
        'ckpt-activate-partial',
        node,
        `ring ${k}: ${c.id} activated with references [${refs}], the members hold [${e.refs.join(',')}]`,
      );
    return true;
  }

  /** The merge of the senders' databases, by the rules of sync-round.ts, computed here afresh. */
  private modelOf(k: string, members: readonly NodeId[]): RoundModel | undefined {
    const cached = this.models.get(k);
    if (cached) return cached;
    const snaps = this.snapshots.get(k);
    if (!snaps) return undefined;
    const senders: { node: NodeId; size: number; snap: Snapshot }[] = [];
    const senderOf = new Map<NodeId, NodeId>();
    for (const m of members) {
      const snap = snaps.get(m);
      if (!snap) return undefined;
      const group = snap.committed.filter((n) => members.includes(n));
      if (!group.includes(m)) group.push(m);
      const sender = Math.min(...group);
      senderOf.set(m, sender);
      if (sender === m) senders.push({ node: m, size: group.length, snap });
    }
    senders.sort((a, b) => b.size - a.size || a.node - b.node);
    if (senders.length > 1) this.counts.mergedRounds++;
    const expected = new Map<CkptId, Expected>();
    const linkedBy = new Map<string, NodeId>();
    for (const s of senders) {
      for (const id of [...s.snap.checkpoints.keys()].sort()) {
        if (expected.has(id)) continue;
        const c = s.snap.checkpoints.get(id)!;
        let unlinked = c.unlinked;
        if (!unlinked) {
          if (linkedBy.has(c.name)) unlinked = true;
          else linkedBy.set(c.name, s.node);
        }
        expected.set(id, { content: c.content, unlinked, winner: s.node, refs: [] });
      }
    }
    for (const m of [...members].sort((a, b) => a - b)) {
      for (const [id, count] of snaps.get(m)!.handles) {
        const e = expected.get(id);
        if (e && count > 0) e.refs.push(`${m}:${count}`);
      }
    }
    for (const [id, e] of [...expected]) if (e.unlinked && e.refs.length === 0) expected.delete(id);
    const description = `senders ${senders.map((s) => `${s.node}(group of ${s.size})`).join(' ')}`;
    const model = { expected, senderOf, description };
    this.models.set(k, model);
    return model;
  }

  roundEnded(node: NodeId, outcome: RoundOutcome, ringId: RingId, stack: ServiceStack): void {
    const t = this.nodes.get(node);
    if (!t || t.stack !== stack || outcome !== 'completed') return;
    const k = key(ringId);
    const db = stack.ckpt.database;
    this.plant?.(node, 'completed', db);
    t.committed = [...(this.ringMembers.get(k) ?? [node])];
    t.lastCompleted = k;
    this.counts.roundsChecked++;
    const digest = databaseDigest(db);
    const first = this.digests.get(k);
    if (!first) this.digests.set(k, { node, digest });
    else if (first.digest !== digest) {
      this.fail(
        'ckpt-replicas-identical',
        node,
        `after round ${k}: ${firstDifference(digest, first.digest)} (here) vs node ${first.node}`,
      );
      return;
    }
    this.checkTracked(node, t, k, db);
  }

  private checkTracked(node: NodeId, t: NodeTrack, k: string, db: CkptDatabase): void {
    const client = t.client;
    if (!client) return;
    const model = this.models.get(k);
    const mySender = model?.senderOf.get(node);
    for (const p of client.privates) {
      if (p.ckptId === undefined || p.tracked.size === 0) continue;
      const winner = model?.expected.get(p.ckptId)?.winner;
      if (model && winner !== undefined && winner !== mySender) {
        // The merge took this checkpoint from another group's sender: its copy wins by rule.
        this.counts.writesLostToMerge += client.forgetPrivate(p.ckptId);
        continue;
      }
      const c = db.byId.get(p.ckptId);
      if (!c) {
        this.fail(
          'ckpt-ack-lost',
          node,
          `after round ${k}: private checkpoint ${p.name} (${p.ckptId}) with ${p.tracked.size} acknowledged sections is gone`,
        );
        return;
      }
      for (const [sk, bytes] of p.tracked) {
        this.counts.trackedSectionsChecked++;
        const s = c.sections.get(sk);
        if (!s) {
          this.fail(
            'ckpt-ack-lost',
            node,
            `after round ${k}: section ${sk} of ${p.name} (${bytes.length} acknowledged bytes) is gone`,
          );
          return;
        }
        if (!sameBytes(s.data, bytes)) {
          this.fail(
            'ckpt-ack-lost',
            node,
            `after round ${k}: section ${sk} of ${p.name} holds ${s.data.length} bytes, not the ${bytes.length} acknowledged`,
          );
          return;
        }
      }
    }
  }

  finish(live: readonly NodeId[], settled: boolean): void {
    if (!settled) return;
    for (const node of live) {
      const t = this.nodes.get(node);
      if (!t?.client) continue;
      const late = t.client.outstanding();
      if (late.length > 0) {
        const f = late[0]!;
        this.fail(
          'ckpt-answered',
          node,
          `client ${f.client}'s ${f.kind} issued at ${f.issuedAt.toFixed(1)} ms never answered (${late.length} unanswered)`,
        );
        return;
      }
    }
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function firstDifference(a: string, b: string): string {
  const la = a.split('\n');
  const lb = b.split('\n');
  for (let i = 0; i < Math.max(la.length, lb.length); i++)
    if (la[i] !== lb[i])
      return `'${(la[i] ?? '<none>').slice(0, 300)}' vs '${(lb[i] ?? '<none>').slice(0, 300)}'`;
  return 'digests differ';
}
