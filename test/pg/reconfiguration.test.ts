/**
 * Configuration changes: a member that leaves mid-message loses only its own partial
 * message, which every survivor drops and records; everything else is delivered.
 */

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { NodeId } from '../../src/core/io.js';
import { EV } from '../../src/recorder/events/index.js';
import { bytesEqual, Cluster, deliveryProblems, makePieces, sameSequence } from './harness.js';
import { applyOp, frameSizeArb, opArb } from './ops.js';
import { readRecords } from './records.js';

test('a leaver mid-message: its partial is dropped and recorded, the others are untouched', () => {
  const cluster = new Cluster({ members: [1, 2, 3], frameSize: 300 });
  cluster.sendEventually(3, 'a', makePieces([100], 1));
  cluster.sendEventually(3, 'a', makePieces([2000, 0], 2)); // about eight frames
  cluster.sendEventually(1, 'a', makePieces([900], 3)); // node 1 is mid-message across the change too
  cluster.ring.visit(3, 2);
  cluster.ring.visit(1, 1);
  cluster.ring.visit(2);
  assert.deepEqual(cluster.member(1).pg.pendingSenders(), [1, 3]);
  cluster.removeMembers([3]);
  cluster.sendEventually(2, 'sync', makePieces([5], 4));
  cluster.ring.settle();
  for (const id of [1, 2]) {
    const m = cluster.member(id);
    const from3 = m.deliveries.filter((d) => d.sender === 3);
    assert.equal(from3.length, 1);
    assert.ok(bytesEqual(from3[0]!.bytes, cluster.sent[0]!.bytes));
    assert.deepEqual(deliveryProblems(m, cluster.sent, [1, 2]), []);
    assert.equal(m.pg.stats.partialsDropped, 1);
    assert.equal(m.pg.stats.assemblyErrors, 0);
    assert.deepEqual(m.pg.pendingSenders(), []);
    const drops = readRecords(m.recorder).filter((r) => r.ev === EV.PG_PARTIAL_DROPPED);
    assert.equal(drops.length, 1);
    assert.equal(drops[0]!.args[0], 3);
    assert.equal(drops[0]!.args[1], cluster.sent[1]!.msgId);
    // Held: frame 1 had room for 162 bytes after the 100-byte message, frame 2 carried 279.
    assert.equal(drops[0]!.args[2], 162 + 279);
    assert.equal(drops[0]!.args[3], 0); // reason: left
    assert.equal(m.confs.map((c) => c.kind).join(','), 'transitional,regular');
  }
});

test('a member joining while another is mid-message skips the orphan continuation without an error', () => {
  const cluster = new Cluster({ members: [1, 2], frameSize: 300 });
  cluster.sendEventually(1, 'a', makePieces([1000], 1));
  cluster.ring.visit(1, 1);
  cluster.ring.reconfigure([1, 2, 5]);
  const joiner = cluster.addMember(5);
  cluster.sendEventually(1, 'a', makePieces([10], 2));
  cluster.ring.settle();
  assert.deepEqual(
    joiner.deliveries.map((d) => d.bytes.length),
    [10],
  );
  assert.ok(joiner.pg.stats.chunksSkipped > 0);
  assert.equal(joiner.pg.stats.assemblyErrors, 0);
  for (const id of [1, 2]) assert.deepEqual(deliveryProblems(cluster.member(id), cluster.sent), []);
});

const leaveScenario = fc.record({
  nodes: fc.integer({ min: 2, max: 4 }),
  frameSize: frameSizeArb,
  ops: fc.array(opArb(true), { minLength: 1, maxLength: 50, size: 'medium' }),
});

test("property: leaves at random points drop only the leavers' unfinished messages", () => {
  fc.assert(
    fc.property(leaveScenario, (s) => {
      const members = Array.from({ length: s.nodes }, (_, i) => i + 1);
      const cluster = new Cluster({ members, frameSize: s.frameSize, recorderSlots: 64 });
      const left: NodeId[] = [];
      for (const op of s.ops) {
        const before = [...cluster.ring.currentMembers];
        applyOp(cluster, op);
        for (const m of before) if (!cluster.ring.currentMembers.includes(m)) left.push(m);
      }
      cluster.ring.settle();
      const survivors = [...cluster.members.values()];
      const stayers = survivors.map((m) => m.id);
      for (const m of survivors) {
        assert.deepEqual(deliveryProblems(m, cluster.sent, stayers), []);
        for (const l of left) {
          const got = m.deliveries.filter((d) => d.sender === l);
          const sent = cluster.sent.filter((x) => x.sender === l);
          assert.ok(got.length <= sent.length);
          for (const [i, d] of got.entries()) {
            assert.ok(bytesEqual(d.bytes, sent[i]!.bytes), `leaver ${l} message ${i}`);
          }
        }
        assert.equal(m.pg.stats.assemblyErrors + m.pg.stats.badFrames, 0);
        assert.deepEqual(m.pg.pendingSenders(), []);
        assert.ok(sameSequence(m.deliveries, survivors[0]!.deliveries));
      }
    }),
    { numRuns: 1500 },
  );
});
