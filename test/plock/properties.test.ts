/**
 * Property: random lock, unlock, cancel and close requests on three nodes, with partial ring
 * rotations between them, nodes leaving and (fresh) rejoining. Afterwards: every member holds
 * the same replicated state, no two owners hold conflicting locks anywhere, every request was
 * answered at most once, and once every owner unlocks everything every waiter was granted.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { conflicts } from '../../src/services/plock/lock-table.js';
import { PLOCK_EOF } from '../../src/services/plock/types.js';
import { PlockCluster, SPACE } from './cluster.js';

const action = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('lock' as const),
      node: fc.integer({ min: 1, max: 3 }),
      client: fc.integer({ min: 1, max: 2 }),
      inode: fc.integer({ min: 1, max: 2 }),
      start: fc.integer({ min: 0, max: 7 }),
      len: fc.integer({ min: 1, max: 4 }),
      exclusive: fc.boolean(),
      wait: fc.boolean(),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('unlock' as const),
      node: fc.integer({ min: 1, max: 3 }),
      client: fc.integer({ min: 1, max: 2 }),
      inode: fc.integer({ min: 1, max: 2 }),
      start: fc.integer({ min: 0, max: 7 }),
      len: fc.integer({ min: 1, max: 8 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('cancel' as const), node: fc.integer({ min: 1, max: 3 }) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('close' as const),
      node: fc.integer({ min: 1, max: 3 }),
      client: fc.integer({ min: 1, max: 2 }),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({ kind: fc.constant('visit' as const), node: fc.integer({ min: 1, max: 3 }) }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('settle' as const) }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('bounce' as const), node: fc.integer({ min: 1, max: 3 }) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('split' as const), node: fc.integer({ min: 1, max: 3 }) }),
  },
);

type Action = typeof action extends fc.Arbitrary<infer A> ? A : never;

export function check(ownership: boolean, actions: Action[], splits = false): void {
  const c = new PlockCluster([1, 2, 3], ownership);
  // Client ids per node incarnation, so a restarted node's clients are new ones.
  const generation = new Map<number, number>([
    [1, 0],
    [2, 0],
    [3, 0],
  ]);
  const clientId = (node: number, client: number) => generation.get(node)! * 10 + client;
  const waiting: { node: number; reqId: number; client: number }[] = [];
  const closed = new Set<string>();
  for (const a of actions) {
    const live = (n: number) => c.net.ringOf(n) !== undefined;
    switch (a.kind) {
      case 'lock': {
        if (!live(a.node)) break;
        const client = clientId(a.node, a.client);
        const reqId = c.send(a.node, client, {
          kind: 'lock',
          space: SPACE,
          inode: a.inode,
          start: a.start,
          end: a.start + a.len - 1,
          owner: client,
          exclusive: a.exclusive,
          wait: a.wait,
        });
        waiting.push({ node: a.node, reqId, client });
        break;
      }
      case 'unlock': {
        if (!live(a.node)) break;
        const client = clientId(a.node, a.client);
        c.send(a.node, client, {
          kind: 'unlock',
          space: SPACE,
          inode: a.inode,
          start: a.start,
          end: a.start + a.len - 1,
          owner: client,
        });
        break;
      }
      case 'cancel': {
        const w = waiting.find((x) => x.node === a.node && live(x.node) && !c.replyTo(x.node, x.reqId));
        if (w) c.send(w.node, w.client, { kind: 'cancel', target: w.reqId });
        break;
      }
      case 'close': {
        if (!live(a.node)) break;
        const client = clientId(a.node, a.client);
        c.node(a.node).plock.clientGone(client, c.now);
        closed.add(`${a.node}:${client}`);
        generation.set(a.node, generation.get(a.node)! + 1);
        break;
      }
      case 'visit':
        if (live(a.node)) c.net.visit(a.node);
        break;
      case 'settle':
        c.settle();
        break;
      case 'split': {
        // One node apart from the others, or everyone together again.
        const members = c.net
          .partitions()
          .flat()
          .sort((x, y) => x - y);
        if (!splits || c.net.partitions().length > 1) c.net.reconfigure([members]);
        else if (live(a.node)) c.net.reconfigure([[a.node], members.filter((m) => m !== a.node)]);
        break;
      }
      case 'bounce': {
        const members = c.net.partitions().flat();
        if (c.net.partitions().length > 1) break;
        if (live(a.node)) {
          if (members.length <= 2) break;
          c.net.reconfigure([members.filter((m) => m !== a.node)]);
          generation.set(a.node, generation.get(a.node)! + 1);
        } else {
          c.start(a.node);
          c.net.reconfigure([[...members, a.node]]);
        }
        break;
      }
    }
  }
  if (c.net.partitions().length > 1) c.net.reconfigure([c.net.partitions().flat()]);
  c.settle();
  for (const n of c.nodes.values()) {
    if (c.net.ringOf(n.id) === undefined) continue;
    assert.ok(n.plock.ready, `node ${n.id} has its state`);
  }
  c.assertAgree();
  assertNoConflicts(c);
  // Every owner unlocks everything, repeatedly (a waiter granted meanwhile is unlocked next round).
  for (let round = 0; round < 6; round++) {
    for (const n of c.nodes.values()) {
      if (c.net.ringOf(n.id) === undefined) continue;
      for (const r of n.plock.inspect()) {
        for (const l of [...r.locks, ...r.waiters]) {
          if (l.nodeId !== n.id) continue;
          c.send(n.id, l.client, {
            kind: 'unlock',
            space: SPACE,
            inode: r.inode,
            start: 0,
            end: PLOCK_EOF,
            owner: l.owner,
          });
        }
      }
    }
    c.settle();
  }
  c.assertAgree();
  for (const n of c.nodes.values()) {
    if (c.net.ringOf(n.id) === undefined) continue;
    for (const r of n.plock.inspect()) {
      assert.equal(r.locks.length + r.waiters.length, 0, `node ${n.id} inode ${r.inode} is free`);
    }
  }
  // Every lock request of a node that never went away, of a client that never closed, was answered once.
  for (const w of waiting) {
    if (c.net.ringOf(w.node) === undefined || closed.has(`${w.node}:${w.client}`)) continue;
    if (Math.floor(w.client / 10) !== generation.get(w.node)) continue;
    assert.ok(c.replyTo(w.node, w.reqId), `lock ${w.reqId} on node ${w.node} was answered`);
  }
}

function assertNoConflicts(c: PlockCluster): void {
  for (const n of c.nodes.values()) {
    if (c.net.ringOf(n.id) === undefined) continue;
    for (const r of n.plock.inspect()) {
      for (const a of r.locks)
        for (const b of r.locks) {
          if (a !== b)
            assert.ok(
              !conflicts(a, b, b.start, b.end, b.exclusive),
              `node ${n.id}: conflicting locks on ${r.inode}`,
            );
        }
    }
  }
}

for (const ownership of [false, true]) {
  test(`property (${ownership ? 'ownership' : 'ring'}): members agree, no conflicting locks, every wait ends`, () => {
    fc.assert(
      fc.property(fc.array(action, { maxLength: 60 }), (actions) => check(ownership, actions)),
      { numRuns: 100 },
    );
  });
}

test('property (partitions): after splits and merges members agree, no conflicting locks, every wait ends', () => {
  fc.assert(
    fc.property(fc.boolean(), fc.array(action, { maxLength: 60 }), (ownership, actions) =>
      check(ownership, actions, true),
    ),
    { numRuns: 100 },
  );
});
