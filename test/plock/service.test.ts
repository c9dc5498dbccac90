import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Guarantee } from '../../src/core/io.js';
import { PLOCK_EOF } from '../../src/services/plock/types.js';
import { PlockCluster, SPACE } from './cluster.js';

const code = (c: PlockCluster, node: number, reqId: number): string | undefined => {
  const r = c.replyTo(node, reqId);
  return r ? (r.error?.code ?? 'OK') : undefined;
};

for (const ownership of [false, true]) {
  const mode = ownership ? 'ownership' : 'ring';

  test(`${mode}: conflicting locks across nodes, F_SETLK fails, F_GETLK names the holder`, () => {
    const c = new PlockCluster([1, 2, 3], ownership);
    const a = c.lock(1, 11, 7, 0, 99);
    c.settle();
    assert.equal(code(c, 1, a), 'OK');
    const b = c.lock(2, 21, 7, 50, 60, true, false);
    c.settle();
    assert.equal(code(c, 2, b), 'WOULD_BLOCK');
    const t = c.call(3, 31, {
      kind: 'test',
      space: SPACE,
      inode: 7,
      start: 0,
      end: PLOCK_EOF,
      owner: 31,
      exclusive: false,
    });
    assert.deepEqual(t.holder, {
      space: SPACE,
      inode: 7,
      start: 0,
      end: 99,
      exclusive: true,
      nodeId: 1,
      owner: 11,
    });
    const shared = c.lock(2, 21, 7, 100, 200, false, false);
    c.settle();
    assert.equal(code(c, 2, shared), 'OK', 'a disjoint range is free');
    const list = c.call(3, 31, { kind: 'list', space: SPACE });
    assert.deepEqual(
      list.holders?.map((h) => `${h.nodeId}.${h.owner}:${h.start}-${h.end}`),
      ['1.11:0-99', '2.21:100-200'],
    );
    c.assertAgree();
  });

  test(`${mode}: waiters on several nodes are granted in ring order`, () => {
    const c = new PlockCluster([1, 2, 3], ownership);
    c.lock(1, 11, 1, 0, 9);
    c.settle();
    const w2 = c.lock(2, 21, 1, 5, 5);
    c.settle();
    const w3 = c.lock(3, 31, 1, 0, 0);
    c.settle();
    assert.equal(code(c, 2, w2), undefined);
    assert.equal(code(c, 3, w3), undefined);
    c.unlock(1, 11, 1, 0, 9);
    assert.equal(code(c, 2, w2), 'OK');
    assert.equal(code(c, 3, w3), 'OK', 'a disjoint waiter is granted in the same pass');
    const w1 = c.lock(1, 11, 1, 5, 5, false);
    c.settle();
    assert.equal(code(c, 1, w1), undefined, 'shared waits for exclusive');
    const w3b = c.lock(3, 32, 1, 5, 5, false);
    c.settle();
    c.unlock(2, 21, 1, 0, PLOCK_EOF);
    assert.equal(code(c, 1, w1), 'OK');
    assert.equal(code(c, 3, w3b), 'OK');
    c.assertAgree();
  });

  test(`${mode}: a cancelled wait is answered CANCELLED and never granted`, () => {
    const c = new PlockCluster([1, 2, 3], ownership);
    c.lock(1, 11, 2, 0, 0);
    c.settle();
    const w = c.lock(2, 21, 2, 0, 0);
    c.settle();
    const cancel = c.call(2, 21, { kind: 'cancel', target: w });
    assert.equal(cancel.cancelled, true);
    assert.equal(code(c, 2, w), 'CANCELLED');
    c.unlock(1, 11, 2, 0, 0);
    assert.equal(c.node(2).replies.filter((r) => r.reqId === w).length, 1);
    const again = c.call(2, 21, { kind: 'cancel', target: w });
    assert.equal(again.cancelled, false, 'nothing to cancel any more');
    c.assertAgree();
  });

  test(`${mode}: a closed client's locks and waits are released everywhere`, () => {
    const c = new PlockCluster([1, 2, 3], ownership);
    c.lock(1, 11, 3, 0, 9);
    c.settle();
    const mine = c.lock(1, 12, 3, 20, 20);
    c.settle();
    const w = c.lock(3, 31, 3, 0, 0);
    c.settle();
    c.node(1).plock.clientGone(11, c.now);
    c.settle();
    assert.equal(code(c, 3, w), 'OK');
    assert.equal(code(c, 1, mine), 'OK');
    c.node(1).plock.clientGone(12, c.now);
    c.settle();
    const list = c.call(2, 21, { kind: 'list', space: SPACE, inode: 3 });
    assert.deepEqual(
      list.holders?.map((h) => h.nodeId),
      [3],
    );
    c.assertAgree();
  });

  test(`${mode}: a node that leaves loses its locks; a waiter elsewhere is granted`, () => {
    const c = new PlockCluster([1, 2, 3], ownership);
    c.lock(1, 11, 4, 0, PLOCK_EOF);
    c.settle();
    const w = c.lock(2, 21, 4, 10, 20);
    c.settle();
    const w3 = c.lock(3, 31, 4, 15, 15);
    c.settle();
    assert.equal(code(c, 2, w), undefined);
    c.net.reconfigure([[2, 3]]);
    c.settle();
    assert.equal(code(c, 2, w), 'OK');
    assert.equal(code(c, 3, w3), undefined, 'the next waiter still conflicts with node 2');
    c.unlock(2, 21, 4, 0, PLOCK_EOF);
    assert.equal(code(c, 3, w3), 'OK');
    c.assertAgree();
  });

  test(`${mode}: a restarted node recovers every lock and waiter from the checkpoint`, () => {
    const c = new PlockCluster([1, 2, 3], ownership);
    c.lock(1, 11, 10, 0, 9);
    c.settle();
    c.lock(2, 21, 10, 20, 29, false);
    c.settle();
    const w = c.lock(2, 22, 10, 5, 5);
    c.settle();
    c.lock(3, 31, 11, 0, 0);
    c.settle();
    c.net.reconfigure([[1, 2]]);
    c.settle();
    c.start(3);
    c.net.reconfigure([[1, 2, 3]]);
    c.settle();
    assert.ok(c.node(3).plock.ready);
    const state = c.assertAgree();
    assert.match(
      state,
      /fs1\/10 owner=0 locks=\[1\.11\.11:0-9x 2\.21\.21:20-29s\] waiters=\[2\.22\.22#\d+:5-5x\]/,
    );
    assert.equal(c.node(3).plock.stats.loads, 1);
    // The recovered state is live: an unlock on node 1 grants node 2's waiter, seen by node 3 too.
    c.unlock(1, 11, 10, 0, 9);
    assert.equal(code(c, 2, w), 'OK');
    const t = c.call(3, 33, {
      kind: 'test',
      space: SPACE,
      inode: 10,
      start: 5,
      end: 5,
      owner: 33,
      exclusive: false,
    });
    assert.equal(t.holder?.nodeId, 2);
    const blocked = c.lock(3, 33, 10, 25, 25, true, false);
    c.settle();
    assert.equal(code(c, 3, blocked), 'WOULD_BLOCK');
    c.assertAgree();
  });
}

test('ownership: the only user grants locally; another node makes it hand over', () => {
  const c = new PlockCluster([1, 2, 3], true);
  const a = c.lock(1, 11, 5, 0, 9);
  c.settle();
  assert.equal(code(c, 1, a), 'OK');
  for (const n of [1, 2, 3]) assert.equal(c.node(n).plock.ownerOf(SPACE, 5), 1);
  const sentBefore = c.node(1).plock.stats.messagesSent;
  for (let i = 0; i < 5; i++) {
    const r = c.lock(1, 11, 5, 100 + i, 100 + i);
    assert.equal(code(c, 1, r), 'OK', 'granted at once, without the ring');
    assert.equal(c.unlock(1, 11, 5, 100 + i, 100 + i).error, undefined);
  }
  assert.equal(c.node(1).plock.stats.messagesSent, sentBefore, 'no message for an owned resource');
  assert.ok(c.node(1).plock.stats.localOps >= 10);
  const w = c.lock(2, 21, 5, 5, 5);
  c.settle();
  assert.equal(code(c, 2, w), undefined, 'node 2 waits for node 1');
  for (const n of [1, 2, 3]) assert.equal(c.node(n).plock.ownerOf(SPACE, 5), 0, 'handed over to the ring');
  assert.equal(c.node(1).plock.stats.handoversSent, 1);
  c.unlock(1, 11, 5, 0, 9);
  assert.equal(code(c, 2, w), 'OK');
  c.unlock(2, 21, 5, 0, PLOCK_EOF);
  // Idle again: the next user claims it.
  const b = c.lock(3, 31, 5, 0, 0);
  c.settle();
  assert.equal(code(c, 3, b), 'OK');
  for (const n of [1, 2, 3]) assert.equal(c.node(n).plock.ownerOf(SPACE, 5), 3);
  c.assertAgree();
});

test('ownership: the owner leaving frees the resource; pending requests elsewhere move on', () => {
  const c = new PlockCluster([1, 2, 3], true);
  c.lock(1, 11, 6, 0, 9);
  c.settle();
  c.net.reconfigure([[2, 3]]);
  c.settle();
  for (const n of [2, 3]) assert.equal(c.node(n).plock.ownerOf(SPACE, 6), 0);
  const r = c.lock(2, 21, 6, 0, 9, true, false);
  c.settle();
  assert.equal(code(c, 2, r), 'OK');
  assert.equal(c.node(3).plock.ownerOf(SPACE, 6), 2);
});

test('checkpoint: gfsplock.<space> with one r<inode>.<owner> section per resource, empty ones included', () => {
  const c = new PlockCluster([1, 2, 3], true);
  c.lock(1, 11, 20, 0, 9); // owned by node 1, locked
  c.settle();
  c.lock(2, 21, 21, 0, 9); // owned by node 2
  c.settle();
  c.lock(3, 31, 22, 0, 0); // handled through the ring after a hand-over
  c.settle();
  const w = c.lock(1, 12, 22, 0, 0);
  c.settle();
  c.lock(1, 11, 23, 0, 0); // locked, then unlocked after a hand-over: ring-handled, empty
  c.settle();
  c.lock(2, 22, 23, 5, 5, false);
  c.settle();
  c.unlock(1, 11, 23, 0, 0);
  c.unlock(2, 22, 23, 5, 5);
  c.net.reconfigure([[1, 2]]);
  c.settle();
  c.start(3);
  c.net.reconfigure([[1, 2, 3]]);
  c.settle();
  const ck = c.node(3).ckpt.database.linked.get('gfsplock.fs1');
  assert.ok(ck, 'the lock space checkpoint exists');
  const sections = new Map(
    [...ck.sections.values()].map((s) => [new TextDecoder().decode(s.id), s.data.length]),
  );
  // Node 3 left (its lock on 22 went, node 1's waiter got it); node 1 stored while node 3 joined.
  assert.equal(code(c, 1, w), 'OK');
  assert.deepEqual([...sections.keys()].sort(), ['r20.1', 'r21.2', 'r22.0', 'r23.0']);
  assert.ok(sections.get('r20.1')! > 0, "the keeper's own resource carries its locks");
  assert.equal(sections.get('r21.2'), 0, "another owner's resource is an empty section");
  assert.ok(sections.get('r22.0')! > 0);
  assert.equal(sections.get('r23.0'), 0, 'a resource without locks is an empty section');
  for (const n of [1, 2, 3]) assert.equal(c.node(n).plock.ownerOf(SPACE, 21), 2);
  c.assertAgree();
  // Node 3 asks node 2 for inode 21: the recovered ownership is honoured.
  const r = c.lock(3, 31, 21, 0, 0, true, false);
  c.settle();
  assert.equal(code(c, 3, r), 'WOULD_BLOCK');
  assert.equal(c.node(3).plock.ownerOf(SPACE, 21), 0);
});

test('requests before the node has state wait; bad requests and malformed messages are refused', () => {
  const c = new PlockCluster([1, 2], false);
  const bad = c.send(1, 1, {
    kind: 'lock',
    space: SPACE,
    inode: 1,
    start: 10,
    end: 5,
    owner: 1,
    exclusive: true,
    wait: true,
  });
  assert.equal(code(c, 1, bad), 'INVALID_PARAM');
  const noSpace = c.send(1, 1, { kind: 'unlock', space: '', inode: 1, start: 0, end: 5, owner: 1 });
  assert.equal(code(c, 1, noSpace), 'INVALID_PARAM');
  const owner = c.send(1, 1, {
    kind: 'test',
    space: SPACE,
    inode: 1,
    start: 0,
    end: 5,
    owner: -1,
    exclusive: true,
  });
  assert.equal(code(c, 1, owner), 'INVALID_PARAM');
  const dup = c.lock(1, 1, 1, 0, 0);
  c.node(1).plock.request(
    1,
    {
      kind: 'lock',
      reqId: dup,
      space: SPACE,
      inode: 1,
      start: 0,
      end: 0,
      owner: 1,
      exclusive: true,
      wait: true,
    },
    c.now,
  );
  c.settle();
  assert.deepEqual(
    c
      .node(1)
      .replies.filter((r) => r.reqId === dup)
      .map((r) => r.error?.code ?? 'OK')
      .sort(),
    ['DUPLICATE_REQUEST', 'OK'],
  );
  for (const bytes of [new Uint8Array([99]), new Uint8Array([1, 2, 3]), new Uint8Array(0)]) {
    assert.equal(c.node(2).pg.send('plock', bytes, Guarantee.Agreed).kind, 'ok');
  }
  c.settle();
  for (const n of [1, 2]) assert.equal(c.node(n).plock.stats.badMessages, 3);
  c.assertAgree();
  // A node that restarts takes requests before its state arrives and answers them after.
  c.net.reconfigure([[1]]);
  c.settle();
  const n2 = c.start(2);
  const early = c.lock(2, 5, 1, 0, 0, true, false);
  assert.equal(code(c, 2, early), undefined);
  assert.equal(n2.plock.ready, false);
  c.net.reconfigure([[1, 2]]);
  c.settle();
  assert.equal(code(c, 2, early), 'WOULD_BLOCK', 'node 1 still holds inode 1');
});
