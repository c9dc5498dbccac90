/**
 * Property tests: whatever the messages, pieces, frame size, packing bounds, token-visit
 * points and interleaving of senders, every member delivers exactly what was sent, message
 * for message, in one common order.
 */

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { PackerFaults } from '../../src/pg/internal-faults.js';
import { Cluster, deliveryProblems, sameSequence } from './harness.js';
import { applyOp, frameSizeArb, opArb } from './ops.js';

export const scenarioArb = fc.record({
  nodes: fc.integer({ min: 1, max: 4 }),
  frameSize: frameSizeArb,
  maxPackedChunks: fc.oneof(fc.constant(64), fc.integer({ min: 1, max: 8 })),
  ops: fc.array(opArb(false), { minLength: 1, maxLength: 60, size: 'medium' }),
});

/** Runs a scenario; returns the problems found (none = every member delivered exactly what was sent). */
export type Scenario = typeof scenarioArb extends fc.Arbitrary<infer T> ? T : never;

export function runScenario(s: Scenario, faults?: PackerFaults): string[] {
  const members = Array.from({ length: s.nodes }, (_, i) => i + 1);
  const cluster = new Cluster({
    members,
    frameSize: s.frameSize,
    maxPackedChunks: s.maxPackedChunks,
    recorderSlots: 64,
    ...(faults ? { faults } : {}),
  });
  for (const op of s.ops) applyOp(cluster, op);
  cluster.ring.settle();
  const problems: string[] = [];
  const all = [...cluster.members.values()];
  for (const m of all) {
    problems.push(...deliveryProblems(m, cluster.sent, members));
    const st = m.pg.stats;
    if (st.assemblyErrors + st.badFrames + st.chunksSkipped + st.partialsDropped > 0) {
      problems.push(`node ${m.id}: errors ${JSON.stringify(st)}`);
    }
    if (m.pg.pendingSenders().length > 0 || m.pg.framesWaiting > 0)
      problems.push(`node ${m.id}: not drained`);
    if (!sameSequence(m.deliveries, all[0]!.deliveries))
      problems.push(`node ${m.id}: order differs from node 1`);
  }
  return problems;
}

test('pack, fragment, reassemble: output equals input on every member, senders interleaved', () => {
  fc.assert(
    fc.property(scenarioArb, (s) => {
      const problems = runScenario(s);
      assert.deepEqual(problems, []);
    }),
    { numRuns: 2500 },
  );
});

test('mutant (2008 fault switched on): the same property finds a counterexample', () => {
  const result = fc.check(
    fc.property(scenarioArb, (s) => runScenario(s, { moreFollowsByPiecePosition: true }).length === 0),
    { numRuns: 2500, seed: 2008 },
  );
  assert.equal(result.failed, true, 'the property did not catch the 2008 fault');
  // Shown in the test log: how quickly the property finds it, and the shrunk witness.
  console.log(
    `mutant caught after ${result.numRuns} runs; shrunk counterexample: ${JSON.stringify(result.counterexample)}`,
  );
});
