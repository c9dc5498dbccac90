/**
 * The virtual network: per-packet fate (loss, duplication, delay, jitter, reordering, held-back
 * multicast) and connectivity (partitions, one-way link failures).
 *
 * A broadcast is modelled as one datagram per receiver (like UDP unicast to every member),
 * each with its own fate. Connectivity is judged when a packet is sent.
 */
import type { NodeId } from '../core/io.js';
import type { Prng } from './prng.js';

export interface LinkModel {
  /** Fixed one-way delay, ms. */
  readonly delayMs: number;
  /** Uniform extra delay in [0, jitterMs). */
  readonly jitterMs: number;
  /** Probability a datagram (or each IP fragment of a large one) is lost. */
  readonly loss: number;
  /** Probability a datagram arrives twice. */
  readonly dup: number;
  /** Probability a datagram is held back by up to reorderMaxMs (so later ones overtake it). */
  readonly reorder: number;
  readonly reorderMaxMs: number;
  /** Probability a broadcast datagram is held back by up to mcastDelayMaxMs (multicast behind the token). */
  readonly mcastDelay: number;
  readonly mcastDelayMaxMs: number;
}

/** A switched LAN with a loaded host: 0.5..1.5 ms one way. */
export const CLEAN_LINKS: LinkModel = {
  delayMs: 0.5,
  jitterMs: 1,
  loss: 0,
  dup: 0,
  reorder: 0,
  reorderMaxMs: 0,
  mcastDelay: 0,
  mcastDelayMaxMs: 0,
};

export class Network {
  links: LinkModel;
  private readonly component = new Map<NodeId, number>();
  private readonly blocked = new Set<number>();
  private readonly prng: Prng;
  sent = 0;
  dropped = 0;
  duplicated = 0;

  constructor(prng: Prng, links: LinkModel = CLEAN_LINKS) {
    this.prng = prng;
    this.links = links;
  }

  /** Splits the nodes into components that cannot reach each other (unlisted nodes form component 0). */
  partition(groups: readonly (readonly NodeId[])[]): void {
    this.component.clear();
    groups.forEach((g, i) => {
      for (const n of g) this.component.set(n, i + 1);
    });
  }

  /** The component of a node under the current partition (0 = not listed). */
  componentOf(node: NodeId): number {
    return this.component.get(node) ?? 0;
  }

  get partitioned(): boolean {
    return this.component.size > 0;
  }

  healPartition(): void {
    this.component.clear();
  }

  /** From now on `to` does not hear `from` (the reverse direction is unaffected). */
  blockLink(from: NodeId, to: NodeId): void {
    this.blocked.add(linkKey(from, to));
  }

  unblockLink(from: NodeId, to: NodeId): void {
    this.blocked.delete(linkKey(from, to));
  }

  get blockedLinks(): number {
    return this.blocked.size;
  }

  healAll(): void {
    this.component.clear();
    this.blocked.clear();
  }

  canReach(from: NodeId, to: NodeId): boolean {
    if (this.component.size > 0 && this.componentOf(from) !== this.componentOf(to)) return false;
    return this.blocked.size === 0 || !this.blocked.has(linkKey(from, to));
  }

  /**
   * Decides the fate of one datagram: writes the arrival delays (ms) of its copies into `out`
   * and returns how many there are (0 = lost or unreachable).
   */
  plan(from: NodeId, to: NodeId, broadcast: boolean, bytes: number, out: number[]): number {
    this.sent++;
    if (!this.canReach(from, to)) {
      this.dropped++;
      return 0;
    }
    const l = this.links;
    const p = this.prng;
    if (l.loss > 0 && p.chance(fragmentedLoss(l.loss, bytes))) {
      this.dropped++;
      return 0;
    }
    let copies = 1;
    if (l.dup > 0 && p.chance(l.dup)) {
      copies = 2;
      this.duplicated++;
    }
    for (let i = 0; i < copies; i++) {
      let d = l.delayMs + (l.jitterMs > 0 ? p.float() * l.jitterMs : 0);
      if (l.reorder > 0 && p.chance(l.reorder)) d += p.float() * l.reorderMaxMs;
      if (broadcast && l.mcastDelay > 0 && p.chance(l.mcastDelay)) d += p.float() * l.mcastDelayMaxMs;
      out[i] = d;
    }
    return copies;
  }
}

/** UDP payload bytes per IP fragment on a 1500-byte MTU. */
const FRAGMENT_BYTES = 1472;

/** A datagram larger than the MTU travels as fragments, and is lost if any one is. */
function fragmentedLoss(loss: number, bytes: number): number {
  if (bytes <= FRAGMENT_BYTES) return loss;
  return 1 - (1 - loss) ** Math.ceil(bytes / FRAGMENT_BYTES);
}

function linkKey(from: NodeId, to: NodeId): number {
  return from * 65536 + to;
}
