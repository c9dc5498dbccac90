import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCode } from '../../src/ipc/errors.js';
import { EV } from '../../src/recorder/events/index.js';
import { readRing } from '../../src/recorder/reader.js';
import { CpgCluster, type TestClient, type TestNode } from './harness.js';

function joinAll(cluster: CpgCluster, spec: [node: number, pid: number, group: string][]): TestClient[] {
  const clients = spec.map(([node, pid, group]) => {
    const c = cluster.node(node).client(pid);
    assert.equal(c.join(group), ErrorCode.OK);
    return c;
  });
  cluster.settle();
  return clients;
}

test('cpg sync: a node going down removes its processes with NODEDOWN, identically on the survivors', () => {
  const cluster = new CpgCluster([[1, 2, 3]]);
  const [a, b, c, a2] = joinAll(cluster, [
    [1, 10, 'g'],
    [2, 20, 'g'],
    [3, 30, 'g'],
    [1, 11, 'h'],
  ]);
  const d = cluster.node(3).client(31);
  d.join('h');
  cluster.settle();
  cluster.reconfigure([1, 2]);
  const lastTwo = (x: TestClient) => x.log.slice(-2);
  assert.deepEqual(lastTwo(a!), ['c g [1/10:0,2/20:0] left [3/30:3] joined []', 't 1.8 [1,2]']);
  assert.deepEqual(lastTwo(b!), lastTwo(a!));
  assert.deepEqual(lastTwo(a2!), ['c h [1/11:0] left [3/31:3] joined []', 't 1.8 [1,2]']);
  assert.equal(cluster.node(1).groupsText(), 'g=[1/10:0,2/20:0] h=[1/11:0]');
  assert.equal(cluster.node(2).groupsText(), cluster.node(1).groupsText());
  // Node 3, alone now, sees the others go down.
  assert.deepEqual(lastTwo(c!), ['c g [3/30:0] left [1/10:3,2/20:3] joined []', 't 3.4 [3]']);
  assert.equal(cluster.node(3).groupsText(), 'g=[3/30:0] h=[3/31:0]');
  // The ordering keeps working for the survivors.
  a!.send('g', 'still here');
  cluster.settle();
  assert.deepEqual(b!.messages('g'), ['m g 1/10 still here']);
  assert.deepEqual(c!.messages('g'), []);
});

test('cpg sync: a node joining with groups of its own merges membership both ways (NODEUP)', () => {
  const cluster = new CpgCluster([[1, 2], [3]]);
  const [a, b, c, c2] = joinAll(cluster, [
    [1, 10, 'g'],
    [2, 20, 'shared'],
    [3, 30, 'g'],
    [3, 31, 'only3'],
  ]);
  assert.equal(cluster.node(3).groupsText(), 'g=[3/30:0] only3=[3/31:0]');
  cluster.reconfigure([1, 2, 3]);
  const expected = 'g=[1/10:0,3/30:0] only3=[3/31:0] shared=[2/20:0]';
  for (const n of [1, 2, 3]) assert.equal(cluster.node(n).groupsText(), expected, `node ${n}`);
  assert.equal(a!.changes('g').at(-1), 'c g [1/10:0,3/30:0] left [] joined [3/30:4]');
  assert.equal(c!.changes('g').at(-1), 'c g [1/10:0,3/30:0] left [] joined [1/10:4]');
  assert.equal(b!.changes('shared').length, 1, 'no change for a group the newcomer is not in');
  assert.deepEqual(c2!.log.at(-1), 't 1.8 [1,2,3]');
  // Messages now reach members on both sides, in one order.
  a!.send('g', 'from 1');
  c!.send('g', 'from 3');
  cluster.settle();
  assert.deepEqual(a!.messages('g'), c!.messages('g'));
  assert.deepEqual(a!.messages('g'), ['m g 1/10 from 1', 'm g 3/30 from 3']);
});

test('cpg sync: requests during a round get TRY_AGAIN; a client dying mid-round is PROCDOWN afterwards', () => {
  const cluster = new CpgCluster([[1, 2]]);
  const [a, b] = joinAll(cluster, [
    [1, 10, 'g'],
    [2, 20, 'g'],
  ]);
  const late = cluster.node(1).client(12);
  cluster.reconfigure([1, 2], {
    afterInit: () => {
      assert.equal(a!.send('g', 'x'), ErrorCode.TRY_AGAIN);
      assert.equal(late.join('g'), ErrorCode.TRY_AGAIN);
      assert.equal(b!.leave('g'), ErrorCode.TRY_AGAIN);
      a!.disconnect();
      assert.equal(cluster.node(1).cpg.deferredCount, 1, 'its leave waits for the end of the round');
    },
  });
  cluster.settle();
  assert.equal(cluster.node(1).cpg.deferredCount, 0);
  assert.equal(b!.changes('g').at(-1), 'c g [2/20:0] left [1/10:5] joined []');
  for (const n of [1, 2]) assert.equal(cluster.node(n).groupsText(), 'g=[2/20:0]');
  assert.equal(late.join('g'), ErrorCode.OK);
});

test('cpg sync: an aborted round changes nothing; the next round commits (no ghosts, #828)', () => {
  const cluster = new CpgCluster([[1, 2], [3]]);
  const [a, , c] = joinAll(cluster, [
    [1, 10, 'g'],
    [2, 20, 'g'],
    [3, 30, 'g'],
  ]);
  const before = a!.log.length;
  // Node 3 joins, and dies before the round completes: the round is aborted.
  cluster.reconfigure([1, 2, 3], { beforeActivate: () => true });
  assert.equal(a!.log.length, before, 'nothing visible from the aborted round');
  assert.equal(cluster.node(1).groupsText(), 'g=[1/10:0,2/20:0]');
  assert.equal(cluster.node(1).cpg.syncInProgress, false, 'requests flow again after an abort');
  cluster.reconfigure([1, 2]);
  for (const n of [1, 2]) assert.equal(cluster.node(n).groupsText(), 'g=[1/10:0,2/20:0]');
  assert.deepEqual(a!.log.slice(before), ['t 1.12 [1,2]']);
  assert.equal(c!.log.at(-1), 't 3.4 [3]', 'node 3 alone again, on a fresh loopback ring');
  assert.equal(cluster.node(3).groupsText(), 'g=[3/30:0]');
});

test('cpg sync: a joinlist of another ring id is dropped', () => {
  const cluster = new CpgCluster([[1, 2]]);
  const [a] = joinAll(cluster, [[1, 10, 'g']]);
  const n2 = cluster.node(2);
  const staleBefore = countEvents(n2, 'CPG_JOINLIST_STALE');
  // Send node 1's joinlist outside any round: node 2 must drop it.
  n2.cpg.syncInit({ ringId: { rep: 9, seq: 99 }, members: [1, 2], transitional: [1, 2] });
  cluster.node(1).cpg.syncInit({ ringId: { rep: 1, seq: 4 }, members: [1, 2], transitional: [1, 2] });
  cluster.node(1).cpg.syncProcess();
  cluster.settle();
  assert.equal(countEvents(n2, 'CPG_JOINLIST_STALE'), staleBefore + 1);
  n2.cpg.syncAbort();
  cluster.node(1).cpg.syncAbort();
  cluster.reconfigure([1, 2]);
  assert.equal(n2.groupsText(), 'g=[1/10:0]');
  assert.equal(a!.changes('g').length, 1);
});

function countEvents(n: TestNode, name: keyof typeof EV): number {
  const image = readRing(n.recorder.snapshot());
  return image.records.event.filter((e) => e === EV[name]).length;
}

test('cpg sync: a process nobody announces is removed at activate (a node that missed its leave)', () => {
  const cluster = new CpgCluster([[1, 2, 3]]);
  const [a, b, c] = joinAll(cluster, [
    [1, 10, 'g'],
    [1, 11, 'g'],
    [3, 30, 'g'],
  ]);
  // Node 3 "pauses": it misses everything ordered meanwhile (its pg hears nothing).
  const n3 = cluster.node(3);
  const ring = n3.ring;
  ring.attach(3, { deliver() {}, configurationChange() {}, tokenVisit() {} });
  a!.disconnect();
  assert.equal(b!.leave('g'), ErrorCode.OK);
  cluster.settle();
  ring.attach(3, n3.pg);
  assert.equal(cluster.node(1).groupsText(), 'g=[3/30:0]');
  assert.equal(n3.groupsText(), 'g=[1/10:0,1/11:0,3/30:0]', 'node 3 still believes in both');
  // The totem saw nothing go down: every node's transitional list is everyone.
  cluster.runSync(ring);
  for (const n of [1, 2, 3]) assert.equal(cluster.node(n).groupsText(), 'g=[3/30:0]');
  assert.equal(c!.changes('g').at(-1), 'c g [3/30:0] left [1/10:5,1/11:5] joined []');
});

test('cpg sync: downlists are exchanged; a node any member saw go down is bounced on every node alike', () => {
  const cluster = new CpgCluster([[1, 2, 3]]);
  const [a, b, c] = joinAll(cluster, [
    [1, 10, 'g'],
    [2, 20, 'g'],
    [3, 30, 'g'],
  ]);
  const cBefore = c!.changes('g').length;
  // Node 1 alone saw node 3 leave and come back (its transitional list lacks 3).
  cluster.node(1).lastMembers = [1, 2];
  cluster.runSync(cluster.node(1).ring);
  const bounce = 'c g [1/10:0,2/20:0,3/30:0] left [3/30:3] joined [3/30:4]';
  assert.equal(a!.changes('g').at(-1), bounce);
  assert.equal(b!.changes('g').at(-1), bounce, "node 2 learnt it from node 1's downlist");
  assert.equal(c!.changes('g').length, cBefore, 'node 3 never went down under itself');
  for (const n of [1, 2, 3]) assert.equal(cluster.node(n).groupsText(), 'g=[1/10:0,2/20:0,3/30:0]');
});
