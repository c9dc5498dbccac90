/**
 * Regression tests for the revolver's lock-conflict finding: members of one new ring that come
 * from different old rings see different transitional configurations (each side sees the
 * other leave). Nothing may be granted to a client from a table that is not agreed, and a node
 * that is back in the regular configuration without having restarted keeps its clients' locks.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { NodeId } from '../../src/core/io.js';
import { PLOCK_EOF } from '../../src/services/plock/types.js';
import { PlockCluster } from './cluster.js';

interface Asked {
  readonly node: NodeId;
  readonly client: number;
  readonly reqId: number;
  readonly inode: number;
  readonly start: number;
  readonly end: number;
  readonly exclusive: boolean;
  released: boolean;
}

/** What the clients were told: a lock is held from its OK reply until its holder unlocks it. */
class Clients {
  readonly asked: Asked[] = [];
  constructor(readonly c: PlockCluster) {}

  lock(node: NodeId, client: number, inode: number, start: number, end: number, exclusive: boolean): Asked {
    const reqId = this.c.lock(node, client, inode, start, end, exclusive);
    const a = { node, client, reqId, inode, start, end, exclusive, released: false };
    this.asked.push(a);
    return a;
  }

  unlock(a: Asked): void {
    a.released = true;
    assert.equal(this.c.unlock(a.node, a.client, a.inode, a.start, a.end).error, undefined);
  }

  code(a: Asked): string | undefined {
    const r = this.c.replyTo(a.node, a.reqId);
    return r ? (r.error?.code ?? 'OK') : undefined;
  }

  /** No two clients are told they hold conflicting locks at once. */
  assertNoConflict(when: string): void {
    const held = this.asked.filter((a) => !a.released && this.code(a) === 'OK');
    for (const [i, a] of held.entries()) {
      for (const b of held.slice(i + 1)) {
        const sameOwner = a.node === b.node && a.client === b.client;
        const overlap = a.inode === b.inode && a.start <= b.end && b.start <= a.end;
        assert.ok(
          sameOwner || !overlap || (!a.exclusive && !b.exclusive),
          `${when}: node ${a.node} client ${a.client} [${a.start}..${a.end}] ${a.exclusive ? 'x' : 's'} and ` +
            `node ${b.node} client ${b.client} [${b.start}..${b.end}] ${b.exclusive ? 'x' : 's'} held at once`,
        );
      }
    }
  }
}

test('members from different old rings keep their locks; requests made during the change are ordered after it', () => {
  const c = new PlockCluster([1, 3, 5]);
  const k = new Clients(c);
  // Node 5's client holds an exclusive lock on inode 7; node 3's client waits behind it.
  const held = k.lock(5, 52, 7, 0, PLOCK_EOF, true);
  c.settle();
  assert.equal(k.code(held), 'OK');
  const waiting = k.lock(3, 31, 7, 986, PLOCK_EOF, true);
  c.settle();
  assert.equal(k.code(waiting), undefined);

  // Node 5 and nodes {1, 3} come into the next ring from different old rings: node 5's
  // transitional configuration is {5}, theirs {1, 3}, and nothing is ordered in between.
  c.net.reconfigure([[1, 3], [5]]);
  k.assertNoConflict('after the transitional configurations');
  // Conflicting requests queued during the change on both sides.
  const shared5 = k.lock(5, 54, 7, 2262, 2798, false);
  const excl1 = k.lock(1, 12, 7, 100, 200, true);
  k.assertNoConflict('during the change');
  c.net.reconfigure([[1, 3, 5]]);
  c.settle();
  k.assertNoConflict('after the merge');

  // Everybody stayed alive and none restarted: node 5's client keeps its lock everywhere.
  const state = c.assertAgree();
  assert.match(state, new RegExp(`fs1/7 owner=0 locks=\\[5\\.52\\.52:0-${PLOCK_EOF}x\\]`));
  assert.equal(k.code(waiting), undefined, 'node 3 still waits for node 5');
  assert.equal(k.code(shared5), undefined);
  assert.equal(k.code(excl1), undefined);
  for (const n of c.nodes.values()) assert.deepEqual(n.lost, [], `node ${n.id} lost nothing`);

  // Releasing it grants the waiters in ring order, one decision for every member.
  k.unlock(held);
  k.assertNoConflict('after the unlock');
  assert.equal(k.code(waiting), 'OK');
  assert.equal(k.code(excl1), 'OK', 'disjoint from the first waiter');
  assert.equal(k.code(shared5), undefined, "behind node 3's exclusive lock");
  k.unlock(waiting);
  assert.equal(k.code(shared5), 'OK');
  k.assertNoConflict('at the end');
  c.assertAgree();
});

test('ownership: members from different old rings keep owned resources and their waiters', () => {
  const c = new PlockCluster([1, 3, 5], true);
  const k = new Clients(c);
  const held = k.lock(5, 52, 7, 0, 9, true);
  c.settle();
  assert.equal(k.code(held), 'OK');
  const waiting = k.lock(3, 31, 7, 5, 5, true);
  c.settle();
  assert.equal(k.code(waiting), undefined);
  c.net.reconfigure([[1, 3], [5]]);
  const mine = k.lock(5, 53, 7, 0, 0, false);
  const other = k.lock(1, 12, 7, 8, 8, true);
  k.assertNoConflict('during the change');
  c.net.reconfigure([[1, 3, 5]]);
  c.settle();
  k.assertNoConflict('after the merge');
  c.assertAgree();
  assert.equal(k.code(waiting), undefined);
  k.unlock(held);
  k.assertNoConflict('after the unlock');
  c.settle();
  for (const a of [waiting, mine, other]) assert.equal(k.code(a), 'OK', 'no conflict left: granted');
  for (const n of c.nodes.values()) assert.deepEqual(n.lost, [], `node ${n.id} lost nothing`);
});

test('a true split where both sides granted: the larger side wins and the losing holder is told LOST', () => {
  const c = new PlockCluster([1, 2, 3]);
  c.net.reconfigure([[1, 2], [3]]);
  c.settle();
  const k = new Clients(c);
  const a = k.lock(1, 11, 9, 0, 9, true);
  const b = k.lock(3, 31, 9, 5, 20, true);
  c.settle();
  assert.equal(k.code(a), 'OK');
  assert.equal(k.code(b), 'OK', 'node 3 alone granted it (no quorum in this layer)');
  c.net.reconfigure([[1, 2, 3]]);
  c.settle();
  const state = c.assertAgree();
  assert.match(state, /fs1\/9 owner=0 locks=\[1\.11\.11:0-9x\]/);
  const lost = c.node(3).lost;
  assert.equal(lost.length, 1);
  assert.equal(lost[0]!.client, 31);
  assert.equal(lost[0]!.error.code, 'LOST');
  assert.deepEqual([lost[0]!.holder.start, lost[0]!.holder.end, lost[0]!.holder.exclusive], [5, 20, true]);
  assert.equal(c.node(3).plock.stats.lost, 1);
});

test('a node that restarted unseen loses its old locks at the next activation', () => {
  const c = new PlockCluster([1, 2, 3]);
  const k = new Clients(c);
  const old = k.lock(3, 31, 4, 0, 9, true);
  c.settle();
  const w = k.lock(1, 11, 4, 0, 0, true);
  c.settle();
  assert.equal(k.code(old), 'OK');
  assert.equal(k.code(w), undefined);
  // Node 3 restarts with the others never seeing it leave (its new stack reuses its link).
  c.start(3);
  c.net.reconfigure([[1, 2, 3]], true);
  c.settle();
  assert.equal(k.code(w), 'OK', "node 3's old lock was released");
  c.assertAgree();
});
