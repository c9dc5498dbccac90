/**
 * A fragmented message whose first frames are ordered in one ring and the rest in the next,
 * where nodes joined: the joiners never saw its start, so the members that did must not
 * deliver it either (found by the checkpoint property test, seed 1484145917: an `open` that
 * straddled a merge was applied by the old members only, and the replicas diverged).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { NodeId } from '../../src/core/io.js';
import { ProcessGroups } from '../../src/pg/process-groups.js';
import { Recorder } from '../../src/recorder/recorder.js';
import { PartitionNet } from '../sync/partition-net.js';

function cluster(groups: NodeId[][]): {
  net: PartitionNet;
  pgs: Map<NodeId, ProcessGroups>;
  got: Map<NodeId, number[]>;
} {
  const net = new PartitionNet(64);
  const got = new Map<NodeId, number[]>();
  const pgs = new Map<NodeId, ProcessGroups>();
  for (const id of groups.flat()) {
    const recorder = new Recorder({ slots: 1024, nodeId: id, virtualClock: true });
    const pg = new ProcessGroups({ channel: net.channel(id), recorder, nodeId: id });
    const mine: number[] = [];
    got.set(id, mine);
    pg.join('g', { deliver: (_g, _sender, message) => mine.push(message.length) });
    net.attach(id, pg);
    pgs.set(id, pg);
  }
  net.reconfigure(groups);
  net.settle();
  return { net, pgs, got };
}

for (const [label, before, after] of [
  ['a node joins', [[1, 2], [3]], [[1, 2, 3]]],
  [
    'two partitions merge',
    [
      [1, 2],
      [3, 4],
    ],
    [[1, 2, 3, 4]],
  ],
] as [string, NodeId[][], NodeId[][]][]) {
  test(`pg: a message straddling a configuration where ${label} is delivered by all members of the new ring or none`, () => {
    const { net, pgs, got } = cluster(before);
    const send = (size: number) => {
      const r = pgs.get(1)!.send('g', new Uint8Array(size));
      assert.equal(r.kind, 'ok');
    };
    send(4000); // three frames or so
    net.visit(1, 1); // only its first frame is ordered in the old ring
    net.reconfigure(after);
    net.settle();
    send(10); // and a later message is delivered everywhere
    net.settle();
    const all = after.flat();
    const straddler = all.map((n) => got.get(n)!.filter((len) => len === 4000).length);
    assert.ok(
      straddler.every((k) => k === straddler[0]),
      `deliveries of the straddling message per node ${all.join(',')}: ${straddler.join(',')}`,
    );
    for (const n of all) assert.equal(got.get(n)!.filter((len) => len === 10).length, 1, `node ${n}`);
  });
}
