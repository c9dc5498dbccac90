/**
 * A partition (the transport's test-only packet filter, switched on each daemon through its
 * control socket) splits the ring in two; healing it merges them back into one ring.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { DaemonCluster } from './daemons.js';

let c: DaemonCluster | undefined;
after(async () => {
  await c?.destroy();
});

test('a partition splits 5 daemons into two rings that each keep delivering, and heals into one ring', async () => {
  c = await DaemonCluster.create({ size: 5 });
  const whole = await c.ring([1, 2, 3, 4, 5], 15_000);

  await c.partition([
    [1, 2],
    [3, 4, 5],
  ]);
  const bound = c.token + c.consensus + 3000;
  const [left, right] = await Promise.all([c.ring([1, 2], bound), c.ring([3, 4, 5], bound)]);
  assert.notDeepEqual(left[0]!.ringId, right[0]!.ringId);
  assert.ok(left[0]!.ringId.seq > whole[0]!.ringId.seq && right[0]!.ringId.seq > whole[0]!.ringId.seq);

  // Each side orders its own messages.
  await c.load([1], 100, 64);
  await c.load([4], 150, 64);
  await c.delivered([1, 2], 100, 10_000);
  await c.delivered([3, 4, 5], 150, 10_000);
  const l = await c.settled([1, 2], 10_000);
  const r = await c.settled([3, 4, 5], 10_000);
  assert.equal(new Set(l.map((x) => x.load.ringHash)).size, 1);
  assert.equal(new Set(r.map((x) => x.load.ringHash)).size, 1);
  for (const x of l) assert.equal(x.load.bySender['4'], undefined, 'nothing crossed the partition');

  await c.partition(null);
  // Merge-detect from either representative starts the merge (merge timeout 200 ms idle).
  const healed = await c.ring([1, 2, 3, 4, 5], bound + 5000);
  const filtered = healed.reduce((sum, x) => sum + x.transport.filteredIn + x.transport.filteredOut, 0);
  assert.ok(filtered > 0, 'the filter did refuse datagrams');
  await c.load([2, 5], 100, 200);
  await c.delivered([1, 2, 3, 4, 5], 200, 15_000);
  const all = await c.settled([1, 2, 3, 4, 5], 10_000);
  assert.equal(new Set(all.map((x) => x.load.ringHash)).size, 1);
});
