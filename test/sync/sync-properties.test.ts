import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { NodeId } from '../../src/core/io.js';
import { makeSyncNode, newNet, type SyncNode } from './stack.js';

type Action =
  | { kind: 'visit'; node: number; limit: number }
  | { kind: 'reconfigure'; live: number[]; cut: number }
  | { kind: 'restart'; node: number };

const ALL = [1, 2, 3, 4, 5];

const action: fc.Arbitrary<Action> = fc.oneof(
  {
    weight: 12,
    arbitrary: fc.record({
      kind: fc.constant('visit' as const),
      node: fc.integer({ min: 1, max: 5 }),
      limit: fc.integer({ min: 0, max: 3 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('reconfigure' as const),
      live: fc.subarray(ALL, { minLength: 1 }),
      cut: fc.integer({ min: 0, max: 5 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('restart' as const), node: fc.integer({ min: 1, max: 5 }) }),
  },
);

test('random membership changes at random points of rounds: afterwards every member agrees', () => {
  fc.assert(
    fc.property(
      fc.array(action, { maxLength: 60, size: 'max' }),
      fc.integer({ min: 1, max: 4 }),
      (actions, queue) => {
        const net = newNet(queue + 1);
        const nodes = new Map<NodeId, SyncNode>();
        for (const id of ALL) nodes.set(id, makeSyncNode(net, id, ['a', 'b', 'c'], 2));
        net.reconfigure([ALL]);
        for (const a of actions) {
          if (a.kind === 'visit') {
            if (net.ringOf(a.node)) net.visit(a.node, a.limit);
          } else if (a.kind === 'reconfigure') {
            // Split the live nodes into at most two partitions at `cut`.
            const left = a.live.slice(0, a.cut);
            const right = a.live.slice(a.cut);
            for (const id of a.live)
              if (!net.ringOf(id)) nodes.set(id, makeSyncNode(net, id, ['a', 'b', 'c'], 2));
            net.reconfigure([left, right]);
          } else if (!net.ringOf(a.node)) {
            nodes.set(a.node, makeSyncNode(net, a.node, ['a', 'b', 'c'], 2));
          }
        }
        // Heal: everyone alive in one ring, then let it run.
        for (const id of ALL) if (!net.ringOf(id)) nodes.set(id, makeSyncNode(net, id, ['a', 'b', 'c'], 2));
        net.reconfigure([ALL]);
        net.settle();
        const ring = net.ringOf(1)!;
        for (const id of ALL) {
          const node = nodes.get(id)!;
          assert.equal(node.engine.inProgress, false);
          assert.equal(node.ends.at(-1), `completed@${ring.rep}.${ring.seq}`);
          for (const p of node.probes) {
            const last = p.commits.at(-1)!;
            assert.deepEqual(last.ringId, ring);
            assert.equal(last.got, '1:2,2:2,3:2,4:2,5:2', 'an aborted round leaked into the commit');
            // Every commit names the ring it was made in, and a ring commits at most once.
            const rings = p.commits.map((c) => `${c.ringId.rep}.${c.ringId.seq}`);
            assert.equal(new Set(rings).size, rings.length);
          }
          const s = node.engine.stats;
          assert.equal(s.roundsStarted, s.roundsCompleted + s.roundsAborted + s.roundsFailed);
          assert.equal(s.badMessages, 0);
          assert.equal(s.unexpected, 0);
        }
        // Every member that committed a ring committed the same thing for it.
        const byRing = new Map<string, string>();
        for (const node of nodes.values()) {
          for (const p of node.probes) {
            for (const c of p.commits) {
              const key = `${p.serviceName}@${c.ringId.rep}.${c.ringId.seq}`;
              const seen = byRing.get(key);
              if (seen !== undefined) assert.equal(c.got, seen, key);
              else byRing.set(key, c.got);
            }
          }
        }
      },
    ),
    { numRuns: 300 },
  );
});
