import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Guarantee } from '../../src/core/io.js';
import { OpenFlags, TIME_END } from '../../src/services/ckpt/types.js';
import { encodeHello, encodeSectionPieces } from '../../src/services/ckpt/wire.js';
import { ATTRS, bytes, CkptCluster, RW, RW_CREATE, text } from './cluster.js';

const BIG = {
  ...ATTRS,
  maxSections: 400,
  checkpointSize: 400 * 4096,
  maxSectionSize: 4096,
  maxSectionIdSize: 32,
};

/** A checkpoint with many empty sections and data sizes that end messages at and around frame ends. */
function populate(c: CkptCluster, node: number, name: string): number {
  const h = c.open(node, 1, name, RW_CREATE, BIG);
  for (let i = 0; i < 40; i++) {
    c.ok(node, 1, {
      kind: 'sectionCreate',
      handle: h,
      sectionId: bytes(`empty-${i}`),
      expirationTime: TIME_END,
      initialData: new Uint8Array(0),
    });
  }
  // Section messages carry ~60 bytes of headers: sizes from 1180 to 1330 put their ends on
  // every offset around the 1324-byte frame end, alone or packed after an empty section.
  for (let size = 1180; size <= 1330; size += 3) {
    const data = new Uint8Array(size).fill(size & 0xff);
    c.ok(node, 1, {
      kind: 'sectionCreate',
      handle: h,
      sectionId: bytes(`s${size}`),
      expirationTime: TIME_END,
      initialData: data,
    });
    c.ok(node, 1, {
      kind: 'sectionCreate',
      handle: h,
      sectionId: bytes(`e${size}`),
      expirationTime: 50_000 + size,
      initialData: new Uint8Array(0),
    });
  }
  c.settle();
  return h;
}

test('a joiner receives the whole database, empty sections included, and the replicas are identical', () => {
  const c = new CkptCluster([1, 2]);
  populate(c, 1, 'plocks');
  const before = c.assertReplicasAgree()[0]!;
  assert.equal(c.node(1).ckpt.database.linked.get('plocks')!.sections.size, 40 + 2 * 51);
  c.start(3);
  c.net.reconfigure([[1, 2, 3]]);
  c.settle();
  const after = c.assertReplicasAgree();
  assert.equal(after.length, 1);
  assert.equal(after[0], before, 'the sync changed nothing but added a replica');
  const h = c.open(3, 9, 'plocks', OpenFlags.Read, undefined);
  const r = c.ok(3, 9, {
    kind: 'read',
    handle: h,
    elements: [
      { sectionId: bytes('s1324'), offset: 0, size: 4096 },
      { sectionId: bytes('empty-39'), offset: 0, size: 1 },
    ],
  });
  assert.equal(r.data![0]!.length, 1324);
  assert.equal(r.data![1]!.length, 0);
  for (const n of c.live()) {
    assert.equal(n.ckpt.protocolErrors.length, 0);
    assert.equal(n.pg.stats.assemblyErrors ?? 0, 0);
  }
});

test('a restarted node comes back empty and is synchronized; its old references are dropped', () => {
  const c = new CkptCluster([1, 2, 3]);
  c.open(3, 1, 'held');
  c.open(1, 1, 'held', RW, undefined);
  assert.equal(c.node(1).ckpt.database.linked.get('held')!.refcounts.get(3), 1);
  c.net.reconfigure([[1, 2]]);
  c.settle();
  assert.equal(
    c.node(1).ckpt.database.linked.get('held')!.refcounts.has(3),
    false,
    'a node that left holds nothing',
  );
  c.start(3);
  c.net.reconfigure([[1, 2, 3]]);
  c.settle();
  c.assertReplicasAgree();
  assert.equal(c.node(3).ckpt.database.linked.get('held')!.refcounts.get(1), 1);
});

test('merging diverged partitions: the larger side wins a shared checkpoint, a name clash leaves the loser unlinked', () => {
  const c = new CkptCluster([1, 2, 3]);
  const h1 = c.open(1, 1, 'shared');
  c.ok(1, 1, {
    kind: 'sectionCreate',
    handle: h1,
    sectionId: bytes('v'),
    expirationTime: TIME_END,
    initialData: bytes('base'),
  });
  const h3 = c.open(3, 1, 'shared', RW, undefined);
  c.net.reconfigure([[1, 2], [3]]);
  c.settle();
  c.ok(1, 1, { kind: 'overwrite', handle: h1, sectionId: bytes('v'), data: bytes('from-12') });
  c.ok(3, 1, { kind: 'overwrite', handle: h3, sectionId: bytes('v'), data: bytes('from-3') });
  const a = c.open(2, 1, 'clash');
  c.ok(2, 1, {
    kind: 'sectionCreate',
    handle: a,
    sectionId: bytes('x'),
    expirationTime: TIME_END,
    initialData: bytes('12'),
  });
  const b = c.open(3, 1, 'clash');
  c.ok(3, 1, {
    kind: 'sectionCreate',
    handle: b,
    sectionId: bytes('x'),
    expirationTime: TIME_END,
    initialData: bytes('3'),
  });
  c.open(3, 2, 'only3');
  c.ok(3, 2, { kind: 'unlink', name: 'shared' }); // unlinked on the small side only
  c.net.reconfigure([[1, 2, 3]]);
  c.settle();
  c.assertReplicasAgree();
  const db = c.node(3).ckpt.database;
  const read = (node: number, handle: number, id: string): string =>
    text(
      c.ok(node, 1, { kind: 'read', handle, elements: [{ sectionId: bytes(id), offset: 0, size: 100 }] })
        .data![0],
    );
  assert.equal(read(3, h3, 'v'), 'from-12', 'same checkpoint id: the copy of the larger partition');
  assert.equal(db.linked.get('shared')?.unlinked, false, "the larger side's linked state wins too");
  assert.equal(read(3, b, 'x'), '3', 'the losing clash copy still serves its open handle');
  const fresh = c.open(3, 5, 'clash', OpenFlags.Read, undefined);
  assert.equal(
    text(
      c.ok(3, 5, { kind: 'read', handle: fresh, elements: [{ sectionId: bytes('x'), offset: 0, size: 9 }] })
        .data![0],
    ),
    '12',
  );
  assert.ok(db.linked.has('only3'), 'what only one side had is kept');
  assert.equal([...db.byId.values()].filter((x) => x.name === 'clash').length, 2);
  assert.equal(c.node(1).ckpt.stats.mergeConflicts, 1);
  c.ok(3, 1, { kind: 'close', handle: b });
  assert.equal(
    [...c.node(1).ckpt.database.byId.values()].filter((x) => x.name === 'clash').length,
    1,
    'freed at its last close',
  );
});

test('equal partitions: the side with the lowest sender wins', () => {
  const c = new CkptCluster([1, 2]);
  c.net.reconfigure([[1], [2]]);
  c.settle();
  const h1 = c.open(1, 1, 'tie');
  c.ok(1, 1, {
    kind: 'sectionCreate',
    handle: h1,
    sectionId: bytes('k'),
    expirationTime: TIME_END,
    initialData: bytes('one'),
  });
  c.ok(1, 1, { kind: 'close', handle: h1 });
  const h2 = c.open(2, 1, 'tie');
  c.ok(2, 1, {
    kind: 'sectionCreate',
    handle: h2,
    sectionId: bytes('k'),
    expirationTime: TIME_END,
    initialData: bytes('two'),
  });
  c.ok(2, 1, { kind: 'close', handle: h2 });
  c.net.reconfigure([[1, 2]]);
  c.settle();
  c.assertReplicasAgree();
  const db = c.node(2).ckpt.database;
  assert.equal(db.byId.size, 1, 'the unreferenced loser is dropped');
  assert.equal(text(db.linked.get('tie')!.sections.get('6b')!.data), 'one');
});

test('the sender leaving mid-sync: the round aborts, nothing half-installed, the next sender completes it', () => {
  const c = new CkptCluster([1, 2, 3], 2);
  populate(c, 1, 'big');
  const reference = c.assertReplicasAgree()[0]!;
  c.start(4);
  const base = c.node(1).pg.stats.messagesSent;
  c.net.reconfigure([[1, 2, 3, 4]]);
  // Run until node 1 (the sender) is part-way through its 150 sync messages.
  for (let i = 0; i < 1000 && c.node(1).pg.stats.messagesSent - base < 60; i++)
    c.net.visit([1, 2, 3, 4][i % 4]!);
  assert.ok(c.node(1).pg.stats.messagesSent - base >= 60);
  assert.equal(c.node(4).engine.inProgress, true, 'still syncing');
  assert.equal(c.node(4).ckpt.database.byId.size, 0, 'nothing is installed before activate');
  c.net.reconfigure([[2, 3, 4]]);
  assert.equal(c.node(4).ckpt.database.byId.size, 0, 'nothing is installed by an abort');
  c.settle();
  const after = c.assertReplicasAgree();
  assert.equal(after.length, 1);
  // Node 1's references went with it; everything else is as it was.
  assert.equal(
    after[0],
    reference
      .replace(/refs\[1:1\]/, 'refs[]')
      .replace(/since=undefined/, `since=${after[0]!.match(/since=(\d+)/)?.[1]}`),
  );
  for (const n of c.live()) assert.equal(n.engine.stats.roundsAborted, 1);
});

test('a section for a checkpoint its sender never sent: typed protocol error, the round is failed everywhere', () => {
  const c = new CkptCluster([1, 2]);
  const h = c.open(1, 1, 'ok');
  c.ok(1, 1, {
    kind: 'sectionCreate',
    handle: h,
    sectionId: bytes('a'),
    expirationTime: TIME_END,
    initialData: bytes('A'),
  });
  const before = c.assertReplicasAgree()[0]!;
  c.net.reconfigure([[1, 2]], true);
  // Let the service lists through so that the round is at ckpt, before node 1's next visit.
  for (let i = 0; i < 10 && c.node(1).engine.currentService !== 'ckpt'; i++) c.net.visit(i % 2 === 0 ? 1 : 2);
  assert.equal(c.node(2).engine.currentService, 'ckpt');
  const ringId = c.net.ringOf(1)!;
  const pg = c.node(1).pg;
  pg.send(
    'ckpt',
    encodeHello({ ringId, sender: true, groupSize: 2, time: 0, handles: [] }),
    Guarantee.Agreed,
  );
  pg.send(
    'ckpt',
    encodeSectionPieces({
      ringId,
      ckptId: 'no.such.ckpt',
      sectionId: bytes('x'),
      expiration: TIME_END,
      lastUpdate: 0,
      data: new Uint8Array(0),
    }),
    Guarantee.Agreed,
  );
  c.settle();
  for (const n of c.live()) {
    assert.equal(n.ckpt.protocolErrors.length, 1);
    assert.equal(n.ckpt.protocolErrors[0]!.code, 'dangling-section');
    assert.equal(n.ckpt.protocolErrors[0]!.sender, 1);
    assert.equal(n.engine.stats.roundsFailed, 1);
    assert.equal(n.engine.inProgress, false);
    assert.equal(n.ckpt.database.dump(), before, 'the live database is untouched');
  }
  // Service resumes, and the next configuration syncs cleanly.
  c.ok(2, 1, { kind: 'open', name: 'after', flags: RW_CREATE, attributes: ATTRS });
  c.net.reconfigure([[1, 2]], true);
  c.settle();
  for (const n of c.live()) assert.equal(n.engine.stats.roundsCompleted >= 2, true);
  c.assertReplicasAgree();
});

test('checkpoint sync messages of an earlier ring are dropped and counted', () => {
  const c = new CkptCluster([1, 2]);
  const old = c.net.ringOf(1)!;
  c.net.reconfigure([[1, 2]], true);
  for (let i = 0; i < 10 && c.node(1).engine.currentService !== 'ckpt'; i++) c.net.visit(i % 2 === 0 ? 1 : 2);
  c.node(2).pg.send(
    'ckpt',
    encodeHello({ ringId: old, sender: false, groupSize: 1, time: 0, handles: [] }),
    Guarantee.Agreed,
  );
  c.settle();
  for (const n of c.live()) {
    assert.equal(n.ckpt.stats.syncStale, 1);
    assert.equal(n.ckpt.protocolErrors.length, 0);
    assert.equal(n.engine.stats.roundsCompleted, 2);
  }
});

test('a lowest node that restarts before the others completed a round without it is not their sender (found by the simulator)', () => {
  const c = new CkptCluster([1, 2, 3]);
  const h = c.open(2, 1, 'kept');
  c.ok(2, 1, {
    kind: 'sectionCreate',
    handle: h,
    sectionId: bytes('a'),
    expirationTime: TIME_END,
    initialData: bytes('acked'),
  });
  // Node 1 fails; the others start a round without it but it never completes: node 1 is back
  // (a new process, empty) before that. Nodes 2 and 3 last activated a round with node 1 in it.
  c.net.reconfigure([[2, 3]]);
  c.start(1);
  c.net.reconfigure([[1, 2, 3]]);
  c.settle();
  c.assertReplicasAgree();
  const kept = c.node(1).ckpt.database.linked.get('kept');
  assert.ok(kept, 'the checkpoint survived the restart of the lowest node');
  assert.equal(text([...kept.sections.values()][0]!.data), 'acked');
});
