import { Guarantee, type NodeId } from '../../src/core/io.js';
import { checkAllDelivered, checkInvariants, messageIds, World } from './harness.js';

export interface SoakOptions {
  seed: number;
  nodes: number;
  steps: number;
  loss: number;
  startSeq?: number;
  /** Upper bound of the per-packet latency (ms): large values reorder mcasts and tokens. */
  maxLatency?: number;
  /** Also block single directions between random pairs. */
  asymmetric?: boolean;
  /** Also freeze random nodes for 300..2300 ms (process pauses). */
  pauses?: boolean;
}

/** A random run of crashes, restarts, leaves, partitions, heals and traffic, then a quiet end. */
export function soak(o: SoakOptions): World {
  const nodes = Array.from({ length: o.nodes }, (_, i) => i + 1);
  const config = o.startSeq === undefined ? {} : { startSeq: o.startSeq };
  const w = new World({ seed: o.seed, nodes, loss: o.loss, config, maxLatency: o.maxLatency ?? 0.6 });
  const r = w.rand;
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  for (const id of nodes) w.startNode(id);
  w.runFor(500);
  for (let step = 0; step < o.steps; step++) {
    const live = w.live().map((i) => i.node);
    const dead = nodes.filter((n) => !live.includes(n));
    const x = r();
    if (x < 0.1 && live.length > 1) w.crash(pick(live));
    else if (x < 0.15 && live.length > 1) w.leave(pick(live));
    else if (x < 0.3 && dead.length > 0) w.startNode(pick(dead));
    else if (x < 0.4) {
      const side: NodeId[] = nodes.filter(() => r() < 0.5);
      w.partition(
        side,
        nodes.filter((n) => !side.includes(n)),
      );
    } else if (x < 0.5) w.heal();
    else if (x < 0.55 && o.asymmetric) w.blockOneWay(pick(nodes), pick(nodes));
    else if (x < 0.62 && o.pauses && live.length > 0) w.pause(pick(live), 300 + r() * 2000);
    for (const id of w.live().map((i) => i.node)) {
      const k = Math.floor(r() * 6);
      for (let i = 0; i < k; i++) w.mcast(id, r() < 0.3 ? Guarantee.Safe : Guarantee.Agreed);
    }
    w.runFor(50 + r() * 1500);
  }
  w.heal();
  w.loss = 0;
  for (const id of nodes) if (!w.live().some((i) => i.node === id)) w.startNode(id);
  w.runUntilStable(30_000);
  for (const id of nodes) w.mcast(id, Guarantee.Agreed);
  w.runFor(3000);
  checkInvariants(w);
  // Self-delivery: a node that never crashed delivered every message it sent, in whatever
  // configuration that happened.
  for (const inc of w.live()) {
    const got = new Set(messageIds(inc));
    const lost = inc.sent.filter((id) => !got.has(id));
    if (lost.length > 0)
      throw new Error(`node ${inc.node} never delivered its own ${lost.slice(0, 5).join(' ')}`);
  }
  // Messages sent in the final, stable ring reach everyone.
  checkAllDelivered(
    w,
    w.live().map((i) => ({ ...i, sent: i.sent.slice(-1) })),
  );
  return w;
}
