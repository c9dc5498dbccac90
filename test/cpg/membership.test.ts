import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Guarantee } from '../../src/core/io.js';
import { ErrorCode } from '../../src/ipc/errors.js';
import { CpgCluster } from './harness.js';

test('cpg: joins, messages and leaves are seen identically by every member, sorted by (node, pid)', () => {
  const cluster = new CpgCluster([[1, 2, 3]]);
  const a = cluster.node(3).client(30);
  const b = cluster.node(1).client(10);
  const c = cluster.node(2).client(20);
  assert.equal(a.join('g'), ErrorCode.OK);
  assert.equal(b.join('g'), ErrorCode.OK);
  cluster.settle();
  for (let i = 0; i < 20; i++) {
    if (i === 7) assert.equal(c.join('g'), ErrorCode.OK);
    assert.equal(a.send('g', `a${i}`), ErrorCode.OK);
    assert.equal(b.send('g', `b${i}`, Guarantee.Safe), ErrorCode.OK);
    if (i % 3 === 0 && i >= 7) assert.equal(c.send('g', `c${i}`), ErrorCode.OK);
    if (i % 5 === 0) cluster.settle();
  }
  cluster.settle();
  assert.equal(b.leave('g'), ErrorCode.OK);
  cluster.settle();
  assert.equal(a.send('g', 'after-leave'), ErrorCode.OK);
  cluster.settle();

  const afterJoin = (log: string[]) => log.slice(log.findIndex((l) => l.includes('joined [2/20:1]')));
  assert.deepEqual(
    afterJoin(a.log).filter((l) => !l.startsWith('t')),
    afterJoin(c.log).filter((l) => !l.startsWith('t')),
  );
  assert.equal(a.messages('g').length, 20 + 20 + 4 + 1);
  assert.deepEqual(b.messages('g'), a.messages('g').slice(0, -1));
  assert.deepEqual(a.changes('g'), [
    // node 1's join was ordered first, so 3/30 joins a group that already holds 1/10
    'c g [1/10:0,3/30:0] left [] joined [3/30:1]',
    'c g [1/10:0,2/20:0,3/30:0] left [] joined [2/20:1]',
    'c g [2/20:0,3/30:0] left [1/10:2] joined []',
  ]);
  // The leaver sees its own leave, then nothing more.
  assert.equal(b.changes('g').at(-1), 'c g [2/20:0,3/30:0] left [1/10:2] joined []');
  // A joiner sees exactly the messages ordered after its join, and some were ordered before.
  const cJoinAt = a.log.findIndex((l) => l.includes('joined [2/20:1]'));
  const orderedAfter = a.log.slice(cJoinAt).filter((l) => l.startsWith('m '));
  assert.deepEqual(c.messages('g'), orderedAfter);
  assert.ok(orderedAfter.length < a.messages('g').length);
  for (const n of [1, 2, 3]) assert.equal(cluster.node(n).groupsText(), 'g=[2/20:0,3/30:0]');
});

test('cpg: request state machine (EXIST, BUSY, NOT_EXIST, names, same pid twice)', () => {
  const cluster = new CpgCluster([[1, 2]]);
  const a = cluster.node(1).client(10);
  const twin = cluster.node(1).client(10);
  assert.equal(a.send('g', 'x'), ErrorCode.NOT_EXIST);
  assert.equal(a.leave('g'), ErrorCode.NOT_EXIST);
  assert.equal(a.join(''), ErrorCode.INVALID_PARAM);
  assert.equal(a.join('x'.repeat(129)), ErrorCode.NAME_TOO_LONG);
  assert.equal(a.join('x'.repeat(128)), ErrorCode.OK);
  assert.equal(a.join('g'), ErrorCode.OK);
  assert.equal(a.join('g'), ErrorCode.EXIST);
  assert.equal(twin.join('g'), ErrorCode.EXIST);
  assert.equal(a.leave('g'), ErrorCode.BUSY, 'leave before the join is delivered');
  assert.equal(a.send('g', 'early'), ErrorCode.OK, 'multicast is allowed once the join is sent');
  cluster.settle();
  assert.equal(a.leave('g'), ErrorCode.OK);
  assert.equal(a.join('g'), ErrorCode.BUSY);
  assert.equal(a.leave('g'), ErrorCode.NOT_EXIST);
  assert.equal(a.send('g', 'late'), ErrorCode.NOT_EXIST);
  assert.equal(twin.join('g'), ErrorCode.TRY_AGAIN, 'the same pid waits for its leave to be delivered');
  cluster.settle();
  assert.equal(twin.join('g'), ErrorCode.OK);
  cluster.settle();
  assert.deepEqual(a.messages('g'), ['m g 1/10 early']);
  assert.equal(cluster.node(2).groupsText(), `g=[1/10:0] ${'x'.repeat(128)}=[1/10:0]`);
});

test('cpg: a client that dies leaves its groups with reason PROCDOWN on every node', () => {
  const cluster = new CpgCluster([[1, 2, 3]]);
  const a = cluster.node(1).client(10);
  const b = cluster.node(2).client(20);
  a.join('g');
  a.join('h');
  b.join('g');
  cluster.settle();
  a.disconnect();
  cluster.settle();
  assert.equal(b.changes('g').at(-1), 'c g [2/20:0] left [1/10:5] joined []');
  for (const n of [1, 2, 3]) assert.equal(cluster.node(n).groupsText(), 'g=[2/20:0]');
});

test('cpg: a full send queue answers TRY_AGAIN and the refused messages are never delivered', () => {
  const cluster = new CpgCluster([[1, 2]], { queueCapacity: 2 });
  const a = cluster.node(1).client(10);
  const b = cluster.node(2).client(20);
  a.join('g');
  b.join('g');
  cluster.settle();
  const big = 'x'.repeat(1200);
  let refused = 0;
  for (let i = 0; i < 10; i++) if (a.send('g', big) === ErrorCode.TRY_AGAIN) refused++;
  assert.ok(refused > 0);
  a.disconnect();
  cluster.settle();
  assert.equal(b.messages('g').length, 10 - refused);
  assert.equal(b.changes('g').at(-1), 'c g [2/20:0] left [1/10:5] joined []');
});
