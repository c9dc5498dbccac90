/**
 * A loopback ordering layer that can split into partitions and merge them again, for sync
 * and checkpoint tests. Each node keeps one LoopbackOrderedChannel for its whole life (so its
 * pg stack survives reconfigurations); a partition orders the frames of its members' token
 * visits and delivers them to its members only. A reconfiguration gives every node whose
 * partition changed a transitional configuration (old ring id, the old members that stay with
 * it) and then a regular one (new ring id, all new members), as srp does. Frames queued by
 * a node that goes down are lost; a surviving node's queued frames go out in its new ring.
 * Nothing here reads a clock or loops unboundedly.
 */

import type { Configuration, NodeId, OrderedListener, RingId } from '../../src/core/io.js';
import { LoopbackOrderedChannel } from '../../src/pg/loopback-ordered-channel.js';

interface Partition {
  readonly members: NodeId[];
  readonly ringId: RingId;
  seq: number;
}

export class PartitionNet {
  private readonly channels = new Map<NodeId, LoopbackOrderedChannel>();
  private readonly listeners = new Map<NodeId, OrderedListener>();
  private readonly partitionOf = new Map<NodeId, Partition>();
  private ringSeq = 0;
  private delivering = false;

  constructor(
    readonly queueCapacity = 64,
    readonly maxPayload = 1324,
  ) {}

  /** A node's channel; a node that was never seen (or went down) gets a fresh one. */
  channel(node: NodeId): LoopbackOrderedChannel {
    let ch = this.channels.get(node);
    if (!ch) {
      ch = new LoopbackOrderedChannel(node, this.queueCapacity, this.maxPayload);
      this.channels.set(node, ch);
    }
    return ch;
  }

  attach(node: NodeId, listener: OrderedListener): void {
    this.channel(node);
    this.listeners.set(node, listener);
  }

  /** Current partitions, each ascending, ordered by lowest member. */
  partitions(): NodeId[][] {
    const seen = new Set<Partition>();
    for (const p of this.partitionOf.values()) seen.add(p);
    return [...seen].map((p) => [...p.members]).sort((a, b) => a[0]! - b[0]!);
  }

  ringOf(node: NodeId): RingId | undefined {
    return this.partitionOf.get(node)?.ringId;
  }

  /** node holds its partition's token: its tokenVisit runs, then its queued frames are ordered. */
  visit(node: NodeId, limit = Number.POSITIVE_INFINITY): number {
    const p = this.partitionOf.get(node);
    if (!p) throw new Error(`node ${node} is in no partition`);
    if (this.delivering) throw new Error('visit while delivering');
    const ch = this.channel(node);
    this.delivering = true;
    try {
      this.listeners.get(node)?.tokenVisit();
      let n = 0;
      while (n < limit && ch.queue.length > 0) {
        const { frame, guarantee } = ch.queue.shift()!;
        p.seq++;
        for (const m of p.members) this.listeners.get(m)?.deliver(node, frame, guarantee, p.ringId, p.seq);
        n++;
      }
      return n;
    } finally {
      this.delivering = false;
    }
  }

  /** One rotation in every partition. */
  rotate(): number {
    let n = 0;
    for (const members of this.partitions()) for (const m of members) n += this.visit(m);
    return n;
  }

  queuedFrames(): number {
    let n = 0;
    for (const node of this.partitionOf.keys()) n += this.channel(node).queue.length;
    return n;
  }

  /** Rotates until nothing moves for two rotations (bounded). */
  settle(maxRotations = 5000): void {
    for (let i = 0; i < maxRotations; i++) {
      if (this.rotate() === 0 && this.rotate() === 0 && this.queuedFrames() === 0) return;
    }
    throw new Error(`partition net did not settle in ${maxRotations} rotations`);
  }

  /**
   * Installs new partitions. Nodes in no group go down (listener and queue dropped). Only nodes
   * whose partition changed get configurations, unless `force` (then every listed node does).
   */
  reconfigure(groups: readonly (readonly NodeId[])[], force = false): void {
    if (this.delivering) throw new Error('reconfigure while delivering');
    const next = groups.map((g) => [...new Set(g)].sort((a, b) => a - b)).filter((g) => g.length > 0);
    const listed = new Set(next.flat());
    if (listed.size !== next.flat().length) throw new Error('a node in two partitions');
    for (const node of [...this.partitionOf.keys()]) {
      if (listed.has(node)) continue;
      this.partitionOf.delete(node);
      this.listeners.delete(node);
      this.channels.delete(node);
    }
    const transitionals: [NodeId, Configuration][] = [];
    const regulars: [NodeId, Configuration][] = [];
    for (const members of next) {
      const unchanged = members.every((m) => {
        const old = this.partitionOf.get(m);
        return (
          old !== undefined &&
          old.members.length === members.length &&
          old.members.every((x, i) => x === members[i])
        );
      });
      if (unchanged && !force) continue;
      this.ringSeq += 4;
      const part: Partition = { members, ringId: { rep: members[0]!, seq: this.ringSeq }, seq: 0 };
      for (const node of members) {
        const old = this.partitionOf.get(node);
        const stay = old ? old.members.filter((m) => members.includes(m)) : [];
        if (old) {
          transitionals.push([
            node,
            {
              kind: 'transitional',
              ringId: old.ringId,
              members: stay,
              left: old.members.filter((m) => !members.includes(m)),
              joined: [],
            },
          ]);
        }
        regulars.push([
          node,
          {
            kind: 'regular',
            ringId: part.ringId,
            members: [...members],
            left: [],
            joined: members.filter((m) => !stay.includes(m)),
          },
        ]);
      }
      for (const node of members) this.partitionOf.set(node, part);
    }
    for (const [node, conf] of transitionals) this.listeners.get(node)?.configurationChange(conf);
    for (const [node, conf] of regulars) this.listeners.get(node)?.configurationChange(conf);
  }
}
