import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readRing } from '../../src/recorder/reader.js';
import { argObject, eventName } from '../../src/recorder/render.js';
import { PlockCluster } from './cluster.js';

function events(c: PlockCluster, node: number): { name: string; args: Record<string, unknown> }[] {
  const image = readRing(c.node(node).recorder.snapshot(), `node${node}`);
  assert.deepEqual(image.problems, []);
  const out: { name: string; args: Record<string, unknown> }[] = [];
  for (let i = 0; i < image.records.count; i++) {
    out.push({ name: eventName(image, image.records.event[i]!), args: argObject(image, i) });
  }
  return out;
}

const code = (c: PlockCluster, node: number, reqId: number): string | undefined => {
  const r = c.replyTo(node, reqId);
  return r ? (r.error?.code ?? 'OK') : undefined;
};

test('a round aborted by another change: requests ordered during it are sent again and answered once', () => {
  const c = new PlockCluster([1, 2, 3]);
  c.lock(1, 11, 1, 0, 9);
  c.settle();
  // Sent before the change (requests made during a change wait for the agreed state), ordered
  // inside the new round (deferred), then the round is aborted by node 3's return.
  const w = c.lock(2, 21, 1, 0, 0);
  const free = c.lock(2, 22, 2, 0, 0);
  c.net.reconfigure([[1, 2]]);
  c.net.visit(1);
  c.net.visit(2);
  c.start(3);
  c.net.reconfigure([[1, 2, 3]]);
  c.settle();
  assert.ok(c.node(2).plock.stats.resubmitted > 0, 'node 2 sent its deferred requests again');
  assert.equal(code(c, 2, free), 'OK');
  assert.equal(code(c, 2, w), undefined, 'still waits for node 1');
  c.unlock(1, 11, 1, 0, 9);
  assert.equal(code(c, 2, w), 'OK');
  assert.equal(c.node(2).replies.filter((r) => r.reqId === w || r.reqId === free).length, 2);
  c.assertAgree();
});

test('the keeper leaves before STORED: the next round has a new keeper and the joiner still recovers', () => {
  const c = new PlockCluster([1, 2, 3]);
  c.lock(2, 21, 5, 0, 9);
  c.settle();
  c.lock(1, 11, 6, 0, 9);
  c.settle();
  c.net.reconfigure([[1, 2]]);
  c.settle();
  c.start(3);
  c.net.reconfigure([[1, 2, 3]]);
  // Run only until node 1 (the keeper) has begun storing, then take it away.
  for (let i = 0; i < 200 && c.node(1).plock.stats.stores === 0; i++) c.net.rotate();
  assert.equal(c.node(1).plock.stats.stores, 1);
  assert.equal(c.node(3).plock.ready, false);
  c.net.reconfigure([[2, 3]]);
  c.settle();
  assert.ok(c.node(3).plock.ready);
  assert.equal(c.node(2).plock.stats.stores, 1, 'node 2 stored for the new round');
  const state = c.assertAgree();
  assert.match(state, /fs1\/5 owner=0 locks=\[2\.21\.21:0-9x\]/);
  assert.match(state, /fs1\/6 owner=0 locks=\[\] /, "node 1's lock went with node 1");
  const names = events(c, 3).map((e) => e.name);
  for (const expected of ['plock.hello_rx', 'plock.activate', 'plock.loaded']) {
    assert.ok(names.includes(expected), `node 3 recorded ${expected}`);
  }
  const store = events(c, 2).find((e) => e.name === 'plock.store_begin');
  assert.ok(store, 'node 2 recorded its store');
  assert.equal(store.args.sections, 2);
  assert.equal(store.args.empty, 1, 'the resource node 1 held is an empty section');
  assert.ok(events(c, 2).some((e) => e.name === 'plock.release_node' && e.args.node === 1));
});

test('ownership: a node joins while a hand-over is in flight and ends with the same state', () => {
  const c = new PlockCluster([1, 2, 3], true);
  c.lock(1, 11, 9, 0, 9);
  c.settle();
  c.net.reconfigure([[1, 2]]);
  c.settle();
  const w = c.lock(2, 21, 9, 5, 5);
  c.net.visit(2); // OWN ordered: node 1 queues its HANDOVER
  c.start(3);
  c.net.reconfigure([[1, 2, 3]]);
  c.settle();
  assert.ok(c.node(3).plock.ready);
  for (const n of [1, 2, 3]) assert.equal(c.node(n).plock.ownerOf('fs1', 9), 0);
  assert.equal(code(c, 2, w), undefined);
  c.unlock(1, 11, 9, 0, 9);
  assert.equal(code(c, 2, w), 'OK');
  assert.match(c.assertAgree(), /fs1\/9 owner=0 locks=\[2\.21\.21:5-5x\]/);
  assert.ok(events(c, 1).some((e) => e.name === 'plock.owner'));
});

test('a merge of two partitions with lock state keeps the larger side; all members agree', () => {
  const c = new PlockCluster([1, 2, 3]);
  c.net.reconfigure([[1], [2, 3]]);
  c.settle();
  const a = c.lock(1, 11, 3, 0, 9);
  const b = c.lock(2, 21, 3, 0, 9);
  c.settle();
  assert.equal(code(c, 1, a), 'OK');
  assert.equal(code(c, 2, b), 'OK', 'each side granted its own lock');
  c.net.reconfigure([[1, 2, 3]]);
  c.settle();
  const state = c.assertAgree();
  assert.match(state, /fs1\/3 owner=0 locks=\[2\.21\.21:0-9x\]/);
  assert.equal(c.node(1).plock.stats.discards, 1, "node 1's side lost");
  assert.equal(c.node(2).plock.stats.stores, 1, 'node 2 is the keeper');
  assert.equal(c.node(3).plock.stats.discards, 0);
  // The merged cluster works: node 1's request now waits for node 2's lock.
  const w = c.lock(1, 12, 3, 5, 5);
  c.settle();
  assert.equal(code(c, 1, w), undefined);
  c.unlock(2, 21, 3, 0, 9);
  assert.equal(code(c, 1, w), 'OK');
  // Two equal sides: the side of the lowest node wins.
  c.start(4);
  c.net.reconfigure([[1, 2, 3, 4]]);
  c.settle();
  c.net.reconfigure([
    [1, 4],
    [2, 3],
  ]);
  c.settle();
  c.lock(4, 41, 8, 0, 0);
  c.lock(3, 31, 8, 0, 0);
  c.settle();
  const lostWait = c.lock(2, 21, 8, 0, 0);
  c.settle();
  assert.equal(code(c, 2, lostWait), undefined, "node 2 waits for node 3's lock");
  c.net.reconfigure([[1, 2, 3, 4]]);
  c.settle();
  assert.match(c.assertAgree(), /fs1\/8 owner=0 locks=\[4\.41\.41:0-0x\] waiters=\[\]/);
  assert.equal(code(c, 2, lostWait), 'TRY_AGAIN', 'a wait lost with its side is answered');
});
