import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { deadlineOf } from '../../src/services/ckpt/ckpt-service.js';
import type { CkptRequest } from '../../src/services/ckpt/types.js';
import { OpenFlags, TIME_END } from '../../src/services/ckpt/types.js';
import { ATTRS, bytes, CkptCluster, type Req, RW_CREATE } from './cluster.js';

const NODES = [1, 2, 3, 4];
const NAMES = ['a', 'b', 'c'];
const SIDS = ['s0', 's1', 's2', ''];
const SMALL = { ...ATTRS, maxSections: 4, checkpointSize: 256, maxSectionSize: 96, retentionDuration: 50 };

type Step =
  | {
      t: 'req';
      node: number;
      client: number;
      pick: number;
      name: number;
      sid: number;
      size: number;
      offset: number;
    }
  | { t: 'visit'; node: number; limit: number }
  | { t: 'tick'; dt: number }
  | { t: 'split'; mask: number }
  | { t: 'crash'; node: number }
  | { t: 'gone'; node: number; client: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 20,
    arbitrary: fc.record({
      t: fc.constant('req' as const),
      node: fc.constantFrom(...NODES),
      client: fc.integer({ min: 1, max: 2 }),
      pick: fc.integer({ min: 0, max: 11 }),
      name: fc.integer({ min: 0, max: NAMES.length - 1 }),
      sid: fc.integer({ min: 0, max: SIDS.length - 1 }),
      size: fc.constantFrom(0, 0, 1, 7, 40, 96, 97),
      offset: fc.integer({ min: 0, max: 100 }),
    }),
  },
  {
    weight: 12,
    arbitrary: fc.record({
      t: fc.constant('visit' as const),
      node: fc.constantFrom(...NODES),
      limit: fc.integer({ min: 0, max: 2 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ t: fc.constant('tick' as const), dt: fc.integer({ min: 1, max: 200 }) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ t: fc.constant('split' as const), mask: fc.integer({ min: 0, max: 15 }) }),
  },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('crash' as const), node: fc.constantFrom(...NODES) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      t: fc.constant('gone' as const),
      node: fc.constantFrom(...NODES),
      client: fc.integer({ min: 1, max: 2 }),
    }),
  },
);

/** nextDeadline is a cache kept as updates apply: it must equal a scan of the whole replica. */
function assertDeadlinesCached(c: CkptCluster): void {
  for (const n of c.live()) {
    let scan = Number.POSITIVE_INFINITY;
    for (const ck of n.ckpt.database.byId.values()) scan = Math.min(scan, deadlineOf(ck));
    assert.equal(n.ckpt.nextDeadline(), Number.isFinite(scan) ? scan : undefined, `deadline of node ${n.id}`);
  }
}

/** A request built from random numbers, using a handle this client really holds when it has one. */
function request(c: CkptCluster, s: Extract<Step, { t: 'req' }>): Req {
  const opens = c
    .node(s.node)
    .replies.filter((r) => r.kind === 'open' && r.client === s.client && r.handle !== undefined)
    .map((r) => r.handle!);
  const handle = opens.length > 0 ? opens[(s.offset + s.sid) % opens.length]! : 1;
  const sectionId = bytes(SIDS[s.sid]!);
  const data = new Uint8Array(s.size).fill(s.offset);
  const name = NAMES[s.name]!;
  // A client without a handle opens one first: most of the interesting updates need one.
  switch (opens.length === 0 ? 0 : s.pick) {
    case 0:
    case 1:
      return {
        kind: 'open',
        name,
        flags: RW_CREATE,
        attributes: s.offset % 5 === 0 ? { ...SMALL, maxSections: 1 } : SMALL,
      };
    case 2:
      return { kind: 'open', name, flags: OpenFlags.Read | OpenFlags.Write };
    case 3:
      return { kind: 'close', handle };
    case 4:
      return { kind: 'unlink', name };
    case 5:
      return {
        kind: 'sectionCreate',
        handle,
        sectionId,
        expirationTime: s.offset % 3 === 0 ? c.now + s.offset : TIME_END,
        initialData: data,
      };
    case 6:
      return { kind: 'sectionCreate', handle, expirationTime: TIME_END, initialData: data };
    case 7:
      return { kind: 'write', handle, elements: [{ sectionId, offset: s.offset, data }] };
    case 8:
      return { kind: 'overwrite', handle, sectionId, data };
    case 9:
      return { kind: 'sectionDelete', handle, sectionId };
    case 10:
      return { kind: 'expirationTimeSet', handle, sectionId, expirationTime: c.now + s.offset };
    default:
      return { kind: 'retentionDurationSet', handle, duration: s.offset };
  }
}

/** Runs the steps, lets every partition settle, merges all, and checks replicas and invariants. */
function checkRun(steps: readonly Step[]): void {
  const c = new CkptCluster(NODES, 4);
  for (const s of steps) {
    if (s.t === 'req') {
      if (c.net.ringOf(s.node)) c.send(s.node, s.client, request(c, s));
    } else if (s.t === 'visit') {
      if (c.net.ringOf(s.node)) c.net.visit(s.node, s.limit);
    } else if (s.t === 'tick') {
      c.now += s.dt;
      for (const n of c.live()) n.ckpt.tick(c.now);
    } else if (s.t === 'gone') {
      if (c.net.ringOf(s.node)) c.node(s.node).ckpt.clientGone(s.client, c.now);
    } else if (s.t === 'crash') {
      // The node's partition goes on without it; it restarts empty at the next split.
      c.net.reconfigure(c.net.partitions().map((p) => p.filter((n) => n !== s.node)));
    } else {
      // Every node (crashed ones restarted) into one of two partitions.
      for (const id of NODES) if (!c.net.ringOf(id)) c.start(id);
      c.net.reconfigure([
        NODES.filter((_n, i) => s.mask & (1 << i)),
        NODES.filter((_n, i) => !(s.mask & (1 << i))),
      ]);
    }
    assertDeadlinesCached(c);
  }
  c.settle();
  assertDeadlinesCached(c);
  // Within each partition, after the dust settles, every replica is the same.
  c.assertReplicasAgree();
  for (const id of NODES) if (!c.net.ringOf(id)) c.start(id);
  c.net.reconfigure([NODES]);
  c.settle();
  const [dump] = c.assertReplicasAgree();
  assert.ok(dump !== undefined);
  const db = c.node(1).ckpt.database;
  for (const n of c.live()) {
    assert.equal(n.ckpt.protocolErrors.length, 0);
    assert.equal(n.engine.inProgress, false);
    // Each node's share of every reference count is exactly its open handles.
    const mine = n.ckpt.handleCounts();
    for (const [id, ck] of db.byId)
      assert.equal(ck.refcounts.get(n.id) ?? 0, mine.get(id) ?? 0, `refs of ${n.id} on ${id}`);
    // Every request got exactly one answer.
    const seen = new Set<number>();
    for (const r of n.replies) {
      assert.ok(!seen.has(r.reqId), `two replies to ${r.reqId}`);
      seen.add(r.reqId);
    }
  }
  // Structural invariants of the agreed database.
  for (const ck of db.byId.values()) {
    let used = 0;
    for (const sec of ck.sections.values()) {
      used += sec.data.length;
      assert.ok(sec.data.length <= ck.attributes.maxSectionSize);
    }
    assert.equal(ck.used, used, 'the running byte count matches the sections');
    assert.ok(used <= ck.attributes.checkpointSize);
    assert.ok(ck.sections.size <= ck.attributes.maxSections);
    if (ck.unlinked)
      assert.ok(
        [...ck.refcounts.values()].some((v) => v > 0),
        'an unlinked checkpoint nobody holds',
      );
    else assert.equal(db.linked.get(ck.name), ck);
  }
}

test('random updates from random nodes under random partitions, merges and restarts: replicas end identical', () => {
  fc.assert(fc.property(fc.array(step, { minLength: 10, maxLength: 150, size: 'max' }), checkRun), {
    numRuns: 200,
  });
});

test('every request is answered once, even when its update is ordered into a round that aborts', () => {
  const c = new CkptCluster([1, 2, 3]);
  const ids: number[] = [];
  c.net.reconfigure([[1, 2, 3]], true);
  for (let i = 0; i < 5; i++)
    ids.push(c.send(2, 1, { kind: 'open', name: `n${i}`, flags: RW_CREATE, attributes: ATTRS } as Req));
  c.net.visit(2);
  c.net.reconfigure([[1, 2]]);
  c.settle();
  for (const id of ids) assert.equal(c.node(2).replies.filter((r) => r.reqId === id).length, 1);
  void (0 as unknown as CkptRequest);
});
