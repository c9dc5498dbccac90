/**
 * Test scaffolding for the cpg service: nodes on LoopbackRings (one ring per partition), each
 * with pg + cpg, clients that log what they receive, and a small stand-in for the sync engine
 * (init on every member, process until done, settle the ring as the barrier, activate).
 */
import type { Configuration, Guarantee, NodeId, OrderedChannel, RingId } from '../../src/core/io.js';
import type { SyncRound } from '../../src/core/sync-participant.js';
import { LoopbackRing } from '../../src/pg/loopback-ordered-channel.js';
import { ProcessGroups } from '../../src/pg/process-groups.js';
import { Recorder } from '../../src/recorder/recorder.js';
import { type CpgEventSink, type CpgMember, CpgService } from '../../src/services/cpg/cpg-service.js';

const text = new TextDecoder();
export const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

/** An OrderedChannel that can be moved from one loopback ring to another (partition, merge). */
class MovableChannel implements OrderedChannel {
  constructor(public target: OrderedChannel) {}
  mcast(payload: Uint8Array, guarantee: Guarantee): boolean {
    return this.target.mcast(payload, guarantee);
  }
  sendQueueRoom(): number {
    return this.target.sendQueueRoom();
  }
  get maxPayload(): number {
    return this.target.maxPayload;
  }
}

export const fmt = (ms: readonly CpgMember[]): string =>
  ms.map((m) => `${m.nodeId}/${m.pid}:${m.reason}`).join(',');

export class TestClient implements CpgEventSink {
  /** Everything received, as text, in order. */
  readonly log: string[] = [];
  constructor(
    readonly node: TestNode,
    readonly id: number,
    readonly pid: number,
  ) {}
  deliver(group: Uint8Array, nodeId: NodeId, pid: number, _g: Guarantee, data: Uint8Array): void {
    this.log.push(`m ${text.decode(group)} ${nodeId}/${pid} ${text.decode(data)}`);
  }
  confchg(
    group: Uint8Array,
    members: readonly CpgMember[],
    left: readonly CpgMember[],
    joined: readonly CpgMember[],
  ): void {
    this.log.push(`c ${text.decode(group)} [${fmt(members)}] left [${fmt(left)}] joined [${fmt(joined)}]`);
  }
  totemConfchg(ringId: RingId, members: readonly NodeId[]): void {
    this.log.push(`t ${ringId.rep}.${ringId.seq} [${members}]`);
  }
  messages(group?: string): string[] {
    return this.log.filter((l) => l.startsWith('m ') && (group === undefined || l.startsWith(`m ${group} `)));
  }
  changes(group?: string): string[] {
    return this.log.filter((l) => l.startsWith('c ') && (group === undefined || l.startsWith(`c ${group} `)));
  }
  join(group: string): number {
    return this.node.cpg.join(this.id, enc(group));
  }
  leave(group: string): number {
    return this.node.cpg.leave(this.id, enc(group));
  }
  send(group: string, data: string, guarantee?: Guarantee): number {
    return this.node.cpg.mcast(this.id, enc(group), enc(data), guarantee);
  }
  disconnect(): void {
    this.node.cpg.disconnect(this.id);
  }
}

export class TestNode {
  readonly recorder: Recorder;
  readonly pg: ProcessGroups;
  readonly cpg: CpgService;
  readonly channel: MovableChannel;
  ring: LoopbackRing;
  /** Members of this node's last configuration (its transitional list is these ∩ the next). */
  lastMembers: readonly NodeId[];
  private nextClient = 1;

  constructor(
    readonly id: NodeId,
    ring: LoopbackRing,
  ) {
    this.ring = ring;
    this.lastMembers = ring.currentMembers;
    this.recorder = new Recorder({ slots: 8192, nodeId: id, virtualClock: true });
    this.channel = new MovableChannel(ring.channel(id));
    this.pg = new ProcessGroups({ channel: this.channel, recorder: this.recorder, nodeId: id });
    this.cpg = new CpgService({ pg: this.pg, recorder: this.recorder, nodeId: id });
    ring.attach(id, this.pg);
  }

  client(pid: number): TestClient {
    const c = new TestClient(this, this.nextClient++, pid);
    this.cpg.connect({ id: c.id, pid, sink: c });
    return c;
  }

  groupsText(): string {
    return this.cpg
      .groups()
      .map((g) => `${text.decode(g.group)}=[${fmt(g.members)}]`)
      .join(' ');
  }
}

export interface SyncHooks {
  /** Called after every member's syncInit, before any syncProcess. */
  afterInit?: () => void;
  /** Called once the joinlists are delivered, before activate; return true to abort the round. */
  beforeActivate?: () => boolean;
}

export class CpgCluster {
  readonly nodes = new Map<NodeId, TestNode>();

  /** One ring per partition; every partition runs its first sync round. */
  constructor(partitions: readonly (readonly NodeId[])[], opts: { queueCapacity?: number } = {}) {
    for (const members of partitions) {
      const ring = new LoopbackRing({ members, queueCapacity: opts.queueCapacity ?? 4096 });
      for (const id of members) this.nodes.set(id, new TestNode(id, ring));
      this.runSync(ring);
    }
  }

  node(id: NodeId): TestNode {
    const n = this.nodes.get(id);
    if (!n) throw new Error(`no node ${id}`);
    return n;
  }

  rings(): LoopbackRing[] {
    return [...new Set([...this.nodes.values()].map((n) => n.ring))];
  }

  /** Orders everything queued on every ring and sends deferred cpg messages. Bounded. */
  settle(): void {
    for (let i = 0; i < 100; i++) {
      for (const ring of this.rings()) ring.settle();
      for (const n of this.nodes.values()) n.cpg.pump();
      if (
        this.rings().every((r) => r.queuedFrames() === 0) &&
        [...this.nodes.values()].every((n) => n.cpg.deferredCount === 0 && n.pg.stagedFrameBytes === 0)
      )
        return;
    }
    throw new Error('cluster did not settle');
  }

  /**
   * The partition holding `next[0]` becomes exactly `next`: its nodes outside `next` go to a
   * ring of their own each; nodes of other partitions in `next` move in (their old rings lose
   * them). Every touched ring then runs a sync round.
   */
  reconfigure(next: readonly NodeId[], hooks: SyncHooks = {}): void {
    const home = this.node(next[0]!).ring;
    const movers = next.filter((id) => this.node(id).ring !== home);
    const leavers = home.currentMembers.filter((id) => !next.includes(id));
    const touched = new Set<LoopbackRing>([home]);
    // Other rings that lose nodes to this one.
    for (const ring of new Set(movers.map((id) => this.node(id).ring))) {
      const stay = ring.currentMembers.filter((id) => !movers.includes(id));
      if (stay.length > 0) {
        ring.reconfigure(stay);
        touched.add(ring);
      }
    }
    home.reconfigure(next);
    for (const id of movers) this.move(this.node(id), home);
    for (const id of leavers) {
      const ring = new LoopbackRing({ members: [id], queueCapacity: home.queueCapacity });
      this.move(this.node(id), ring);
      touched.add(ring);
    }
    for (const ring of touched) this.runSync(ring, ring === home ? hooks : {});
  }

  /** A whole sync round on one ring, through the SyncParticipant contract. */
  runSync(ring: LoopbackRing, hooks: SyncHooks = {}): void {
    const members = ring.currentMembers;
    const nodes = members.map((id) => this.node(id));
    for (const n of nodes) {
      const round: SyncRound = {
        ringId: ring.currentRing,
        members,
        transitional: n.lastMembers.filter((m) => members.includes(m)),
      };
      n.cpg.syncInit(round);
    }
    hooks.afterInit?.();
    for (let i = 0; i < 1000; i++) {
      let more = false;
      for (const n of nodes) if (n.cpg.syncProcess() === 'more') more = true;
      ring.settle();
      if (!more) break;
    }
    if (hooks.beforeActivate?.()) {
      for (const n of nodes) n.cpg.syncAbort();
      return;
    }
    for (const n of nodes) {
      n.cpg.syncActivate();
      n.lastMembers = members;
    }
  }

  /** Moves a node (already a member of `ring`'s configuration) onto that ring. */
  private move(n: TestNode, ring: LoopbackRing): void {
    const oldMembers = n.ring.currentMembers;
    const transitional: Configuration = {
      kind: 'transitional',
      ringId: n.ring.currentRing,
      members: [n.id],
      left: oldMembers.filter((m) => m !== n.id),
      joined: [],
    };
    n.ring = ring;
    n.channel.target = ring.channel(n.id);
    ring.attach(n.id, n.pg);
    n.pg.configurationChange(transitional);
    n.pg.configurationChange({
      kind: 'regular',
      ringId: ring.currentRing,
      members: ring.currentMembers,
      left: [],
      joined: ring.currentMembers.filter((m) => m !== n.id),
    });
  }
}
