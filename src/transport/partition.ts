/**
 * A test-only packet filter that splits the nodes into groups: datagrams pass only between
 * nodes of the same group. Nodes not listed form one more group of their own each. Give
 * every node's transport the same Partition (`filter: partition.filter`) and change the
 * groups at any time; `heal()` lets everything through again.
 */
import type { NodeId } from '../core/io.js';
import type { PacketFilter } from './udp-transport.js';

export class Partition {
  private groupOf = new Map<NodeId, number>();
  /** Datagrams refused so far (both directions count). */
  refused = 0;

  constructor(groups: readonly (readonly NodeId[])[] = []) {
    this.split(groups);
  }

  split(groups: readonly (readonly NodeId[])[]): void {
    const next = new Map<NodeId, number>();
    groups.forEach((group, i) => {
      for (const node of group) {
        if (next.has(node)) throw new RangeError(`partition: node ${node} is in two groups`);
        next.set(node, i);
      }
    });
    this.groupOf = next;
  }

  heal(): void {
    this.groupOf = new Map();
  }

  connected(a: NodeId, b: NodeId): boolean {
    if (this.groupOf.size === 0 || a === b) return true;
    const ga = this.groupOf.get(a);
    const gb = this.groupOf.get(b);
    return ga !== undefined && ga === gb;
  }

  readonly filter: PacketFilter = (from, to) => {
    const ok = this.connected(from, to);
    if (!ok) this.refused++;
    return ok;
  };
}
