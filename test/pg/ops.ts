/** fast-check generators for pg property tests: sends with awkward pieces, exact fits, token visits. */

import fc from 'fast-check';
import { Guarantee, type NodeId } from '../../src/core/io.js';
import {
  CONTINUATION_HEADER_BYTES,
  FRAME_HEADER_BYTES,
  firstChunkHeaderBytes,
  MIN_FRAME_BYTES,
} from '../../src/pg/frame.js';
import { type Cluster, GROUPS, makePieces } from './harness.js';

export type Op =
  | {
      readonly t: 'send';
      readonly s: number;
      readonly g: number;
      readonly sizes: number[];
      readonly safe: boolean;
    }
  | {
      readonly t: 'exact';
      readonly s: number;
      readonly g: number;
      /** Where the message ends relative to a frame end. */
      readonly delta: number;
      /** Frames beyond the current one the message spans. */
      readonly k: number;
      /** Cut points (fractions of the length) and empty pieces inserted at random places. */
      readonly cuts: number[];
      readonly empties: number[];
      readonly trailingEmpty: boolean;
    }
  | { readonly t: 'visit'; readonly n: number; readonly limit: number }
  | { readonly t: 'rotate' }
  | { readonly t: 'leave'; readonly n: number };

export const pieceSize = fc.oneof(
  { weight: 5, arbitrary: fc.constant(0) },
  { weight: 4, arbitrary: fc.integer({ min: 1, max: 16 }) },
  { weight: 2, arbitrary: fc.integer({ min: 17, max: 400 }) },
  { weight: 1, arbitrary: fc.integer({ min: 401, max: 3000 }) },
);

const nodeIndex = fc.integer({ min: 0, max: 7 });

export function opArb(withLeave: boolean): fc.Arbitrary<Op> {
  const arbs: fc.WeightedArbitrary<Op>[] = [
    {
      weight: 6,
      arbitrary: fc.record({
        t: fc.constant('send' as const),
        s: nodeIndex,
        g: fc.integer({ min: 0, max: GROUPS.length - 1 }),
        sizes: fc.array(pieceSize, { maxLength: 7 }),
        safe: fc.integer({ min: 0, max: 4 }).map((x) => x === 0),
      }) as fc.Arbitrary<Op>,
    },
    {
      weight: 4,
      arbitrary: fc.record({
        t: fc.constant('exact' as const),
        s: nodeIndex,
        g: fc.integer({ min: 0, max: GROUPS.length - 1 }),
        delta: fc.integer({ min: -3, max: 3 }),
        k: fc.integer({ min: 0, max: 2 }),
        cuts: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 4 }),
        empties: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 3 }),
        trailingEmpty: fc.boolean(),
      }) as fc.Arbitrary<Op>,
    },
    {
      weight: 4,
      arbitrary: fc.record({
        t: fc.constant('visit' as const),
        n: nodeIndex,
        limit: fc.oneof(fc.integer({ min: 0, max: 3 }), fc.constant(1_000_000)),
      }) as fc.Arbitrary<Op>,
    },
    { weight: 1, arbitrary: fc.constant({ t: 'rotate' as const }) },
  ];
  if (withLeave) {
    arbs.push({
      weight: 1,
      arbitrary: fc.record({ t: fc.constant('leave' as const), n: nodeIndex }) as fc.Arbitrary<Op>,
    });
  }
  return fc.oneof(...arbs);
}

export const frameSizeArb = fc.oneof(
  fc.constantFrom(MIN_FRAME_BYTES, 300, 512, 1324),
  fc.integer({ min: MIN_FRAME_BYTES, max: 1500 }),
);

/** Sizes of a message that ends `delta` bytes from the end of a frame, given the sender's staged frame. */
export function exactFitSizes(
  frameSize: number,
  staged: number,
  groupLen: number,
  op: Extract<Op, { t: 'exact' }>,
): number[] {
  const header = firstChunkHeaderBytes(groupLen);
  let used = staged === 0 ? FRAME_HEADER_BYTES : staged;
  if (frameSize - used - header < 1) used = FRAME_HEADER_BYTES;
  const total = Math.max(
    0,
    frameSize -
      used -
      header +
      op.k * (frameSize - FRAME_HEADER_BYTES - CONTINUATION_HEADER_BYTES) +
      op.delta,
  );
  const cuts = [...new Set(op.cuts.map((c) => Math.floor(c * total)))].sort((a, b) => a - b);
  const sizes: number[] = [];
  let prev = 0;
  for (const c of [...cuts, total]) {
    sizes.push(c - prev);
    prev = c;
  }
  for (const e of op.empties) sizes.splice(Math.floor(e * (sizes.length + 1)), 0, 0);
  if (op.trailingEmpty) sizes.push(0);
  return sizes;
}

let tagCounter = 0;

/** Applies one op to a cluster; ops naming a node that is not (or no longer) a member are ignored. */
export function applyOp(cluster: Cluster, op: Op): void {
  const members = cluster.ring.currentMembers;
  const pick = (i: number): NodeId => members[i % members.length]!;
  switch (op.t) {
    case 'send': {
      const g = GROUPS[op.g]!;
      cluster.sendEventually(
        pick(op.s),
        g,
        makePieces(op.sizes, ++tagCounter),
        op.safe ? Guarantee.Safe : Guarantee.Agreed,
      );
      return;
    }
    case 'exact': {
      const sender = pick(op.s);
      const g = GROUPS[op.g]!;
      const pg = cluster.member(sender).pg;
      const sizes = exactFitSizes(pg.frameSize, pg.stagedFrameBytes, new TextEncoder().encode(g).length, op);
      cluster.sendEventually(sender, g, makePieces(sizes, ++tagCounter));
      return;
    }
    case 'visit':
      cluster.ring.visit(pick(op.n), op.limit);
      return;
    case 'rotate':
      cluster.ring.rotate();
      return;
    case 'leave': {
      if (members.length < 2) return;
      cluster.removeMembers([pick(op.n)]);
      return;
    }
  }
}
