import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Guarantee } from '../../src/core/io.js';
import { LoopbackRing } from '../../src/pg/loopback-ordered-channel.js';
import { ProcessGroups } from '../../src/pg/process-groups.js';
import { Recorder } from '../../src/recorder/recorder.js';
import { SyncEngine, syncOrderedListener } from '../../src/sync/sync-engine.js';
import { encodeSyncMessage, SyncMsgType } from '../../src/sync/wire.js';
import { makeSyncNode, newNet, ProbeService } from './stack.js';

for (let n = 1; n <= 5; n++) {
  test(`a round completes on a ring of ${n} and every member commits the same thing`, () => {
    const net = newNet();
    const ids = Array.from({ length: n }, (_, i) => i + 1);
    const nodes = ids.map((id) => makeSyncNode(net, id));
    net.reconfigure([ids]);
    for (const node of nodes) assert.equal(node.engine.inProgress, true);
    net.settle();
    const ring = net.ringOf(1)!;
    for (const node of nodes) {
      assert.equal(node.engine.inProgress, false);
      assert.deepEqual(node.ends, [`completed@${ring.rep}.${ring.seq}`]);
      for (const p of node.probes) {
        assert.equal(p.commits.length, 1);
        assert.deepEqual(p.commits[0]!.ringId, ring);
        assert.equal(p.commits[0]!.got, ids.map((id) => `${id}:3`).join(','));
      }
    }
  });
}

test('a round over LoopbackRing: re-formed ring syncs, a leave mid-round aborts and the next round completes', () => {
  const ring = new LoopbackRing({ members: [1, 2, 3, 4] });
  const nodes = [1, 2, 3, 4].map((id) => {
    const recorder = new Recorder({ slots: 1024, nodeId: id, virtualClock: true });
    const pg = new ProcessGroups({ channel: ring.channel(id), recorder, nodeId: id });
    const engine = new SyncEngine({ pg, recorder, nodeId: id });
    const probe = new ProbeService('svc', pg, 5);
    engine.register(probe);
    ring.attach(id, syncOrderedListener(pg, engine));
    return { id, engine, probe };
  });
  ring.reconfigure([1, 2, 3, 4]);
  ring.rotate();
  ring.rotate();
  assert.ok(
    nodes.every((n) => n.engine.inProgress),
    'still processing after two rotations',
  );
  ring.reconfigure([1, 2, 4]);
  ring.settle();
  for (const n of nodes.filter((x) => x.id !== 3)) {
    assert.equal(n.engine.inProgress, false);
    assert.equal(n.probe.aborts, 1);
    assert.equal(n.probe.commits.length, 1);
    assert.deepEqual(n.probe.commits[0]!.ringId, ring.currentRing);
    assert.equal(n.probe.commits[0]!.got, '1:5,2:5,4:5');
    assert.equal(n.engine.stats.roundsAborted, 1);
  }
});

test('a round with no services completes as soon as the service lists are in', () => {
  const net = newNet();
  const nodes = [1, 2, 3].map((id) => makeSyncNode(net, id, []));
  net.reconfigure([[1, 2, 3]]);
  net.settle();
  for (const node of nodes) assert.equal(node.engine.stats.roundsCompleted, 1);
});

test('nodes with different service sets walk one agreed list', () => {
  const net = newNet();
  const one = makeSyncNode(net, 1, ['a', 'b']);
  const two = makeSyncNode(net, 2, ['b', 'c']);
  const three = makeSyncNode(net, 3, []);
  net.reconfigure([[1, 2, 3]]);
  net.settle();
  for (const node of [one, two, three]) assert.equal(node.engine.stats.roundsCompleted, 1);
  assert.equal(one.probes[0]!.commits[0]!.got, '1:3');
  assert.equal(one.probes[1]!.commits[0]!.got, '1:3,2:3');
  assert.equal(two.probes[0]!.commits[0]!.got, '1:3,2:3');
  assert.equal(two.probes[1]!.commits[0]!.got, '2:3');
});

test('a message of an old ring is dropped and recorded, the round is unaffected', () => {
  const net = newNet();
  const nodes = [1, 2].map((id) => makeSyncNode(net, id));
  net.reconfigure([[1, 2]]);
  const old = net.ringOf(1)!;
  net.settle();
  net.reconfigure([[1, 2]], true);
  // A barrier for service 0 of the previous ring, as a late node would send it.
  nodes[0]!.pg.send(
    'sync',
    encodeSyncMessage({ type: SyncMsgType.Barrier, ringId: old, index: 0, service: 'a' }),
  );
  net.settle();
  for (const node of nodes) {
    assert.equal(node.engine.stats.staleDropped, 1);
    assert.equal(node.engine.stats.roundsCompleted, 2);
    assert.equal(node.probes[0]!.commits[1]!.got, '1:3,2:3');
  }
});

test('a sync message queued before a configuration change arrives in the new ring and is dropped as stale', () => {
  const net = newNet();
  const nodes = [1, 2, 3].map((id) => makeSyncNode(net, id, ['a'], 1));
  net.reconfigure([[1, 2, 3]]);
  // Every node's service list is queued, none ordered yet; node 3 leaves.
  net.reconfigure([[1, 2]]);
  net.settle();
  for (const node of nodes.slice(0, 2)) {
    assert.equal(node.engine.stats.staleDropped, 2, 'the two survivors sent a list in the aborted ring');
    assert.equal(node.engine.stats.roundsCompleted, 1);
    assert.equal(node.probes[0]!.commits[0]!.got, '1:1,2:1');
  }
});

test('undecodable and out-of-step sync messages are counted and dropped', () => {
  const net = newNet();
  const nodes = [1, 2].map((id) => makeSyncNode(net, id));
  net.reconfigure([[1, 2]]);
  const ring = net.ringOf(1)!;
  nodes[1]!.pg.send('sync', new Uint8Array([9, 1, 2]));
  net.settle();
  // The round is over: a barrier of this ring now finds no round and counts as stale.
  nodes[1]!.pg.send(
    'sync',
    encodeSyncMessage({ type: SyncMsgType.Barrier, ringId: ring, index: 0, service: 'a' }),
  );
  net.settle();
  for (const node of nodes) {
    assert.equal(node.engine.stats.badMessages, 1);
    assert.equal(node.engine.stats.staleDropped, 1);
    assert.equal(node.engine.stats.roundsCompleted, 1);
  }
  // A barrier for the wrong service index while a round runs.
  net.reconfigure([[1, 2]], true);
  const now = net.ringOf(1)!;
  nodes[0]!.pg.send(
    'sync',
    encodeSyncMessage({ type: SyncMsgType.Barrier, ringId: now, index: 1, service: 'b' }),
  );
  net.settle();
  for (const node of nodes) {
    assert.equal(node.engine.stats.unexpected, 1);
    assert.equal(node.engine.stats.roundsCompleted, 2);
  }
});

test('a full send queue delays sync messages until later token visits, the round still completes', () => {
  const net = newNet(1);
  const nodes = [1, 2, 3].map((id) => makeSyncNode(net, id, ['a', 'b', 'c'], 20));
  net.reconfigure([[1, 2, 3]]);
  net.settle();
  for (const node of nodes) {
    assert.equal(node.engine.stats.roundsCompleted, 1);
    for (const p of node.probes) assert.equal(p.commits[0]!.got, '1:20,2:20,3:20');
  }
});

test('a service failing the round aborts it on every member; the next configuration starts afresh', () => {
  const net = newNet();
  const nodes = [1, 2].map((id) => makeSyncNode(net, id, ['a']));
  net.reconfigure([[1, 2]]);
  for (const node of nodes) node.engine.abortRound('a', 'test');
  for (const node of nodes) {
    assert.equal(node.engine.inProgress, false);
    assert.equal(node.probes[0]!.aborts, 1);
    assert.match(node.ends[0]!, /^failed@/);
  }
  net.settle();
  for (const node of nodes) assert.equal(node.probes[0]!.commits.length, 0);
  net.reconfigure([[1, 2]], true);
  net.settle();
  for (const node of nodes) assert.equal(node.probes[0]!.commits.length, 1);
});

test('registering during a round is refused', () => {
  const net = newNet();
  const node = makeSyncNode(net, 1);
  net.reconfigure([[1]]);
  assert.throws(() => node.engine.register(new ProbeService('z', node.pg, 1)), /between rounds/);
  net.settle();
  assert.equal(node.engine.inProgress, false);
  void Guarantee;
});

test('a configuration change after every possible number of token visits of a round aborts it cleanly', () => {
  const length = (() => {
    const net = newNet(2);
    const nodes = [1, 2, 3].map((id) => makeSyncNode(net, id, ['a', 'b'], 2));
    net.reconfigure([[1, 2, 3]]);
    let k = 0;
    while (nodes.some((n) => n.engine.inProgress)) net.visit([1, 2, 3][k++ % 3]!);
    return k;
  })();
  assert.ok(length > 6);
  for (let k = 0; k < length; k++) {
    for (const next of [
      [1, 2],
      [1, 2, 3, 4],
      [2, 3],
    ]) {
      const net = newNet(2);
      const nodes = new Map([1, 2, 3].map((id) => [id, makeSyncNode(net, id, ['a', 'b'], 2)]));
      net.reconfigure([[1, 2, 3]]);
      for (let i = 0; i < k; i++) net.visit([1, 2, 3][i % 3]!);
      if (next.includes(4)) nodes.set(4, makeSyncNode(net, 4, ['a', 'b'], 2));
      net.reconfigure([next]);
      net.settle();
      const ring = net.ringOf(next[0]!)!;
      const expected = next.map((id) => `${id}:2`).join(',');
      for (const id of next) {
        const node = nodes.get(id)!;
        assert.equal(node.engine.inProgress, false);
        for (const p of node.probes) {
          // Nothing of the interrupted round was committed; the new round's data is.
          assert.deepEqual(
            p.commits.map((x) => x.ringId),
            [ring],
            `k=${k} next=${next}`,
          );
          assert.equal(p.commits[0]!.got, expected);
          if (id !== 4) assert.equal(p.aborts, 1, `k=${k}: every participant aborted once`);
        }
      }
    }
  }
});
