import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { NodeId } from '../../src/core/io.js';
import { ErrorCode } from '../../src/ipc/errors.js';
import { CpgCluster, enc, type TestClient } from './harness.js';

const NODES = [1, 2, 3, 4] as const;
const GROUPS = ['a', 'b'] as const;

type Op =
  | { kind: 'connect'; node: number; pid: number }
  | { kind: 'join' | 'leave'; client: number; group: string }
  | { kind: 'send'; client: number; group: string }
  | { kind: 'disconnect'; client: number }
  | { kind: 'settle' }
  | { kind: 'partition'; split: number[] }
  | { kind: 'merge' }
  | { kind: 'abortedMerge' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('connect' as const),
      node: fc.constantFrom(...NODES),
      pid: fc.integer({ min: 1, max: 6 }),
    }),
  },
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constantFrom('join' as const, 'leave' as const),
      client: fc.nat(20),
      group: fc.constantFrom(...GROUPS),
    }),
  },
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('send' as const),
      client: fc.nat(20),
      group: fc.constantFrom(...GROUPS),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('disconnect' as const), client: fc.nat(20) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('settle' as const) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('partition' as const),
      split: fc.subarray([...NODES], { minLength: 1, maxLength: 3 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('merge' as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('abortedMerge' as const) }) },
);

interface Live {
  readonly client: TestClient;
  connected: boolean;
}

/** What every node of a partition must report after a completed round: live clients' completed joins. */
function expectedGroups(cluster: CpgCluster, live: Live[], partition: readonly NodeId[]): string {
  const groups = new Map<string, string[]>();
  for (const l of live) {
    if (!l.connected || !partition.includes(l.client.node.id)) continue;
    for (const g of GROUPS) {
      const last = l.client.changes(g).at(-1);
      // The client's own view: joined and not (yet) seen leaving.
      const inIt = last?.includes(`${l.client.node.id}/${l.client.pid}:0`);
      if (inIt) {
        const list = groups.get(g) ?? [];
        list.push(`${l.client.node.id}/${l.client.pid}:0`);
        groups.set(g, list);
      }
    }
  }
  void cluster;
  return [...groups.entries()]
    .sort(([x], [y]) => (x < y ? -1 : 1))
    .map(([g, ms]) => `${g}=[${ms.sort((p, q) => cmpMember(p, q)).join(',')}]`)
    .join(' ');
}

function cmpMember(p: string, q: string): number {
  const [pn, pp] = p.split(/[/:]/).map(Number);
  const [qn, qp] = q.split(/[/:]/).map(Number);
  return pn! - qn! || pp! - qp!;
}

test('cpg property: random joins, leaves, sends, deaths, partitions, merges and aborted rounds', () => {
  fc.assert(
    fc.property(fc.array(opArb, { minLength: 5, maxLength: 60 }), (ops) => {
      const cluster = new CpgCluster([[...NODES]]);
      const live: Live[] = [];
      let seq = 0;
      const pidInUse = (node: number, pid: number) =>
        live.some((l) => l.connected && l.client.node.id === node && l.client.pid === pid);
      for (const op of ops) {
        switch (op.kind) {
          case 'connect':
            if (!pidInUse(op.node, op.pid))
              live.push({ client: cluster.node(op.node).client(op.pid), connected: true });
            break;
          case 'join':
          case 'leave':
          case 'send': {
            const l = live[op.client % Math.max(live.length, 1)];
            if (!l?.connected) break;
            const r = op.kind === 'send' ? l.client.send(op.group, `#${seq++}`) : l.client[op.kind](op.group);
            assert.ok(Object.values(ErrorCode).includes(r as never));
            break;
          }
          case 'disconnect': {
            const l = live[op.client % Math.max(live.length, 1)];
            if (l?.connected) {
              l.connected = false;
              l.client.disconnect();
            }
            break;
          }
          case 'settle':
            cluster.settle();
            break;
          case 'partition': {
            const home = cluster.node(op.split[0]!).ring.currentMembers;
            const next = op.split.filter((n) => home.includes(n));
            if (next.length > 0 && next.length < home.length) cluster.reconfigure(next);
            break;
          }
          case 'merge':
            cluster.reconfigure([...NODES]);
            break;
          case 'abortedMerge':
            cluster.reconfigure([...NODES], { beforeActivate: () => true });
            cluster.reconfigure([...NODES]);
            break;
        }
      }
      cluster.settle();
      cluster.reconfigure([...NODES]);
      cluster.settle();
      // 1. After a completed round every node reports the same groups, and they are exactly the
      //    live clients that believe they are members (no ghosts, nobody missing).
      const reference = cluster.node(1).groupsText();
      for (const n of NODES) assert.equal(cluster.node(n).groupsText(), reference, `node ${n}`);
      assert.equal(reference, expectedGroups(cluster, live, [...NODES]));
      // 2. Any two clients order the messages they both received the same way.
      for (const g of GROUPS) {
        const logs = live.map((l) => l.client.messages(g));
        for (let i = 0; i < logs.length; i++) {
          for (let j = i + 1; j < logs.length; j++) {
            const inJ = new Set(logs[j]);
            const inI = new Set(logs[i]);
            assert.deepEqual(
              logs[i]!.filter((m) => inJ.has(m)),
              logs[j]!.filter((m) => inI.has(m)),
            );
          }
        }
      }
      // 3. Every member list a client was given is sorted by (node, pid).
      for (const l of live) {
        for (const c of l.client.changes()) {
          const members = /\[([^\]]*)\]/.exec(c)![1]!.split(',').filter(Boolean);
          assert.deepEqual([...members].sort(cmpMember), members);
        }
      }
      // 4. A client sees a group's messages and changes only while it is a member: from the
      //    change that adds it to the change that removes it.
      for (const l of live) {
        const me = `${l.client.node.id}/${l.client.pid}:`;
        for (const g of GROUPS) {
          let member = false;
          for (const line of l.client.log) {
            if (line.startsWith(`m ${g} `)) assert.ok(member, `${me} got a message outside membership`);
            if (!line.startsWith(`c ${g} `)) continue;
            const [members, left] = [...line.matchAll(/\[([^\]]*)\]/g)].map((x) => x[1]!);
            const inMembers = members!.split(',').some((x) => x.startsWith(me));
            const inLeft = left!.split(',').some((x) => x.startsWith(me));
            assert.ok(member || inMembers, `${me} got a change before its join: ${line}`);
            assert.ok(inMembers || inLeft, `${me} got a change it is not part of: ${line}`);
            member = inMembers;
          }
        }
      }
      // 5. Changes made by a sync round (those right before a totem change): a process leaves
      //    with node-down exactly when its node is not in the new configuration.
      for (const l of live) {
        const log = l.client.log;
        for (let i = 0; i < log.length; i++) {
          if (!log[i]!.startsWith('t ')) continue;
          const nodes = /\[([^\]]*)\]/.exec(log[i]!)![1]!.split(',').map(Number);
          for (let j = i - 1; j >= 0 && log[j]!.startsWith('c '); j--) {
            const lists = [...log[j]!.matchAll(/\[([^\]]*)\]/g)].map((x) => x[1]!.split(',').filter(Boolean));
            const [, left, joined] = lists;
            for (const entry of left!) {
              const [node, pid, reason] = entry.split(/[/:]/).map(Number);
              // node-down exactly when the node is gone, or bounced (seen down by a member, back in the same round)
              const bounced = joined!.includes(`${node}/${pid}:4`);
              assert.equal(reason === 3, !nodes.includes(node!) || bounced, `${entry} before ${log[i]}`);
            }
          }
        }
      }
      void enc;
    }),
    { numRuns: 300, seed: 20261128 },
  );
});
