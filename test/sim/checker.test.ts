import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Configuration, Guarantee, type NodeId } from '../../src/core/io.js';
import { InvariantChecker } from '../../src/sim/checker.js';
import { parseFaults } from '../../src/sim/faults.js';
import { encodePayload } from '../../src/sim/payload.js';
import { runSimulation } from '../../src/sim/run.js';
import { type ToyBug, toySequencerFactory } from './toy-sequencer.js';

const ring = (rep: number, seq: number) => ({ rep, seq });

function regular(rep: number, seq: number, members: NodeId[], joined: NodeId[] = []): Configuration {
  return { kind: 'regular', ringId: ring(rep, seq), members, left: [], joined };
}
function transitional(rep: number, seq: number, members: NodeId[], left: NodeId[]): Configuration {
  return { kind: 'transitional', ringId: ring(rep, seq), members, left, joined: [] };
}

/** Three nodes in ring 1.4; messages 1..n sent by node 1 (agreed), received by all. */
function cluster(n = 3, msgs = 4) {
  const c = new InvariantChecker();
  const nodes = Array.from({ length: n }, (_, i) => i + 1);
  for (const id of nodes) {
    c.nodeStarted(id, 1);
    c.configurationChange(id, regular(1, 4, nodes, nodes));
  }
  for (let m = 1; m <= msgs; m++) {
    c.sent(1, m, Guarantee.Agreed);
    for (const id of nodes) c.received(id, m);
  }
  const deliver = (
    node: NodeId,
    msgId: number,
    seq = msgId,
    rep = 1,
    rseq = 4,
    g: Guarantee = Guarantee.Agreed,
  ) => c.delivered(node, 1, encodePayload(msgId, 1, 40), g, ring(rep, rseq), seq);
  return { c, nodes, deliver };
}

test('a correct stream passes, including a clean change through a transitional configuration', () => {
  const { c, deliver } = cluster();
  for (const n of [1, 2, 3]) for (const m of [1, 2, 3]) deliver(n, m);
  for (const n of [1, 2]) {
    c.configurationChange(n, transitional(1, 8, [1, 2], [3]));
    deliver(n, 4);
    c.configurationChange(n, regular(1, 8, [1, 2]));
  }
  c.nodeStopped(3);
  assert.equal(c.finish([1, 2], true), undefined);
});

const planted: [string, string, (k: ReturnType<typeof cluster>) => void][] = [
  [
    'no-duplicate',
    'a message delivered twice',
    ({ deliver }) => {
      deliver(1, 1);
      deliver(1, 1);
    },
  ],
  [
    'agreed-order',
    'two nodes deliver different messages at one seq',
    ({ deliver }) => {
      deliver(1, 1, 1);
      deliver(2, 2, 1);
    },
  ],
  [
    'agreed-order',
    'a node delivers seqs out of order',
    ({ deliver }) => {
      deliver(1, 2, 2);
      deliver(1, 1, 1);
    },
  ],
  [
    'fifo',
    'a sender’s later message before its earlier one',
    ({ deliver }) => {
      deliver(1, 2, 1);
      deliver(1, 1, 2);
    },
  ],
  ['in-configuration', 'a message ordered in another ring', ({ deliver }) => deliver(1, 1, 1, 2, 8)],
  [
    'payload-intact',
    'a damaged payload',
    ({ c }) => {
      const p = encodePayload(1, 1, 40);
      p[30]! ^= 1;
      c.delivered(1, 1, p, Guarantee.Agreed, ring(1, 4), 1);
    },
  ],
  [
    'payload-intact',
    'a message attributed to the wrong sender',
    ({ c }) => c.delivered(1, 2, encodePayload(1, 1, 40), Guarantee.Agreed, ring(1, 4), 1),
  ],
  [
    'safe-delivery',
    'a safe message delivered before every member holds it',
    ({ c }) => {
      c.sent(2, 9, Guarantee.Safe);
      c.received(1, 9);
      c.delivered(1, 2, encodePayload(9, 2, 40), Guarantee.Safe, ring(1, 4), 9);
    },
  ],
  [
    'configuration-agreement',
    'one ring id with two member lists',
    ({ c }) => {
      c.configurationChange(1, regular(1, 8, [1, 2]));
      c.configurationChange(2, regular(1, 8, [1, 2, 3]));
    },
  ],
  [
    'configuration-sane',
    'a node missing from its own configuration',
    ({ c }) => c.configurationChange(3, regular(1, 8, [1, 2])),
  ],
  [
    'configuration-sane',
    'a ring seq that goes backwards across a restart',
    ({ c }) => {
      c.nodeStopped(2);
      c.nodeStarted(2, 2);
      c.configurationChange(2, regular(2, 4, [2]));
    },
  ],
  [
    'configuration-sane',
    'a transitional member that was not in the regular configuration',
    ({ c }) => c.configurationChange(1, transitional(1, 8, [1, 4], [2, 3])),
  ],
  [
    'evs-same-set',
    'two nodes moving together deliver different sets',
    ({ c, deliver }) => {
      for (const n of [1, 2]) {
        deliver(n, 1);
        c.configurationChange(n, transitional(1, 8, [1, 2], [3]));
      }
      deliver(1, 2);
      for (const n of [1, 2]) c.configurationChange(n, regular(1, 8, [1, 2]));
    },
  ],
  [
    'evs-same-set',
    'the transitional configuration at different places (no safe messages)',
    ({ c, deliver }) => {
      deliver(1, 1);
      c.configurationChange(1, transitional(1, 8, [1, 2], [3]));
      c.configurationChange(2, transitional(1, 8, [1, 2], [3]));
      deliver(2, 1);
      for (const n of [1, 2]) c.configurationChange(n, regular(1, 8, [1, 2]));
    },
  ],
  [
    'self-delivery',
    'a node never delivers its own message',
    ({ c, deliver }) => {
      for (const n of [2, 3]) deliver(n, 1);
      c.finish([1, 2, 3], true);
    },
  ],
  [
    'liveness',
    'live nodes end in different rings',
    ({ c }) => {
      c.configurationChange(3, transitional(5, 8, [3], [1, 2]));
      c.configurationChange(3, regular(3, 8, [3]));
      c.finish([1, 2, 3], true);
    },
  ],
  [
    'liveness',
    'the final ring lacks a live node',
    ({ c }) => {
      c.nodeStarted(4, 1);
      c.finish([1, 2, 3, 4], true);
    },
  ],
];

for (const [invariant, what, plant] of planted) {
  test(`the checker catches ${what} (${invariant})`, () => {
    const k = cluster();
    plant(k);
    k.c.finish(
      [1, 2, 3].filter((n) => n <= 3),
      true,
    );
    assert.equal(k.c.violation?.invariant, invariant, JSON.stringify(k.c.violation));
  });
}

const bugs: [ToyBug, string, string][] = [
  ['safe-too-early', 'loss=0.2', 'safe-delivery'],
  ['duplicate', 'none', 'no-duplicate'],
  ['drop-own', 'none', 'self-delivery'],
];
for (const [bug, faults, invariant] of bugs) {
  test(`a real run of a core with a planted bug fails: ${bug} -> ${invariant}`, () => {
    const r = runSimulation({
      seed: 5,
      nodes: 3,
      core: toySequencerFactory([1, 2, 3], bug),
      durationMs: 1500,
      faults: parseFaults(faults),
      workload: { safeFraction: 0.5 },
    });
    assert.equal(r.pass, false);
    assert.ok(
      r.violation!.invariant === invariant ||
        (bug === 'drop-own' && r.violation!.invariant === 'evs-same-set'),
      JSON.stringify(r.violation),
    );
  });
}
