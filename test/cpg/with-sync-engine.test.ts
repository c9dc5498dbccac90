import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { NodeId, OrderedListener } from '../../src/core/io.js';
import { ErrorCode } from '../../src/ipc/errors.js';
import { LoopbackRing } from '../../src/pg/loopback-ordered-channel.js';
import { ProcessGroups } from '../../src/pg/process-groups.js';
import { Recorder } from '../../src/recorder/recorder.js';
import { CpgService } from '../../src/services/cpg/cpg-service.js';
import { SyncEngine, syncOrderedListener } from '../../src/sync/sync-engine.js';
import { fmt, TestClient, type TestNode } from './harness.js';

/** cpg on the real SyncEngine (src/sync) over a LoopbackRing: the wiring the daemon will use. */
interface Stack {
  readonly id: NodeId;
  readonly cpg: CpgService;
  readonly engine: SyncEngine;
  readonly listener: OrderedListener;
  clients: TestClient[];
}

function stack(ring: LoopbackRing, id: NodeId): Stack {
  const recorder = new Recorder({ slots: 8192, nodeId: id, virtualClock: true });
  const pg = new ProcessGroups({ channel: ring.channel(id), recorder, nodeId: id });
  const engine = new SyncEngine({ pg, recorder, nodeId: id });
  const cpg = new CpgService({ pg, recorder, nodeId: id });
  engine.register(cpg);
  const listener = syncOrderedListener(pg, engine);
  ring.attach(id, listener);
  return { id, cpg, engine, listener, clients: [] };
}

function client(s: Stack, pid: number): TestClient {
  // TestClient only needs `node.cpg` and `node.id` from its node.
  const c = new TestClient({ id: s.id, cpg: s.cpg } as unknown as TestNode, s.clients.length + 1, pid);
  s.cpg.connect({ id: c.id, pid, sink: c });
  s.clients.push(c);
  return c;
}

const groupsOf = (s: Stack) =>
  s.cpg
    .groups()
    .map((g) => `${new TextDecoder().decode(g.group)}=[${fmt(g.members)}]`)
    .join(' ');

test('cpg with the sync engine: rounds carry membership through leaves, aborts and a new node', () => {
  const ring = new LoopbackRing({ members: [1, 2, 3] });
  const stacks = new Map<NodeId, Stack>([1, 2, 3].map((id) => [id, stack(ring, id)]));
  const s = (id: NodeId) => stacks.get(id)!;
  ring.reconfigure([1, 2, 3]);
  ring.settle();
  for (const st of stacks.values()) assert.equal(st.engine.inProgress, false);

  const a = client(s(1), 10);
  const b = client(s(2), 20);
  const c = client(s(3), 30);
  for (const x of [a, b, c]) assert.equal(x.join('g'), ErrorCode.OK);
  ring.settle();
  assert.equal(a.send('g', 'one'), ErrorCode.OK);
  ring.settle();
  for (const x of [a, b, c]) assert.deepEqual(x.messages('g'), ['m g 1/10 one']);

  // Node 3 leaves the ring.
  ring.reconfigure([1, 2]);
  ring.settle();
  for (const x of [a, b]) {
    assert.equal(x.changes('g').at(-1), 'c g [1/10:0,2/20:0] left [3/30:3] joined []');
    assert.match(x.log.at(-1)!, /^t 1\.\d+ \[1,2\]$/);
  }

  // A round aborted half-way by another change, then a fresh node 4 joins.
  ring.reconfigure([1, 2]);
  ring.rotate();
  ring.reconfigure([1, 2, 4]);
  stacks.set(4, stack(ring, 4));
  s(4).listener.configurationChange({
    kind: 'regular',
    ringId: ring.currentRing,
    members: [1, 2, 4],
    left: [],
    joined: [1, 2],
  });
  ring.settle();
  for (const id of [1, 2, 4]) {
    assert.equal(s(id).engine.inProgress, false, `node ${id} finished its round`);
    assert.equal(groupsOf(s(id)), 'g=[1/10:0,2/20:0]', `node ${id}`);
  }
  const d = client(s(4), 40);
  assert.equal(d.join('g'), ErrorCode.OK);
  ring.settle();
  assert.deepEqual(d.changes('g'), ['c g [1/10:0,2/20:0,4/40:0] left [] joined [4/40:1]']);
  assert.equal(d.send('g', 'hi from 4'), ErrorCode.OK);
  ring.settle();
  for (const x of [a, b, d]) assert.equal(x.messages('g').at(-1), 'm g 4/40 hi from 4');
});
