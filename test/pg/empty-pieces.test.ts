/**
 * Boundaries are byte counts: inserting, removing or moving empty pieces, or re-cutting a
 * message into other pieces, never changes a single byte of the frames sent.
 */

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { Cluster, concat, makePieces } from './harness.js';
import { frameSizeArb, pieceSize } from './ops.js';

const planArb = fc.record({
  frameSize: frameSizeArb,
  steps: fc.array(
    fc.oneof(
      { weight: 4, arbitrary: fc.array(pieceSize, { maxLength: 8 }).map((sizes) => ({ sizes })) },
      { weight: 1, arbitrary: fc.constant('visit' as const) },
    ),
    { minLength: 1, maxLength: 30, size: 'medium' },
  ),
});

type Shape = 'as-given' | 'no-empties' | 'one-piece' | 'empties-everywhere';

function framesFor(plan: PlanValue, shape: Shape): Uint8Array[] {
  const cluster = new Cluster({ members: [7], frameSize: plan.frameSize, recorderSlots: 64 });
  let tag = 0;
  for (const step of plan.steps) {
    if (step === 'visit') {
      cluster.ring.visit(7);
      continue;
    }
    const pieces = makePieces(step.sizes, ++tag);
    let shaped: Uint8Array[];
    if (shape === 'as-given') shaped = pieces;
    else if (shape === 'no-empties') shaped = pieces.filter((p) => p.length > 0);
    else if (shape === 'one-piece') shaped = [concat(pieces)];
    else shaped = [new Uint8Array(0), ...pieces.flatMap((p) => [p, new Uint8Array(0)])];
    cluster.sendEventually(7, 'a', shaped);
  }
  cluster.ring.settle();
  return cluster.ring.ordered.map((o) => o.frame);
}

type PlanValue = typeof planArb extends fc.Arbitrary<infer T> ? T : never;

test('frames are byte-identical whatever empty pieces a message carries', () => {
  fc.assert(
    fc.property(planArb, (plan) => {
      const reference = framesFor(plan, 'as-given');
      for (const shape of ['no-empties', 'one-piece', 'empties-everywhere'] as const) {
        assert.deepEqual(framesFor(plan, shape), reference, shape);
      }
    }),
    { numRuns: 1000 },
  );
});
