import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CreationFlags, OpenFlags, SectionsChosen, TIME_END } from '../../src/services/ckpt/types.js';
import { ATTRS, bytes, CkptCluster, RW, RW_CREATE, text } from './cluster.js';

test('open, section create, write on one node; read, status and iteration on another', () => {
  const c = new CkptCluster([1, 2, 3]);
  const h1 = c.open(1, 10, 'ck');
  const h3 = c.open(3, 30, 'ck', OpenFlags.Read, undefined);
  c.ok(1, 10, {
    kind: 'sectionCreate',
    handle: h1,
    sectionId: bytes('a'),
    expirationTime: TIME_END,
    initialData: bytes('hello'),
  });
  c.ok(1, 10, {
    kind: 'sectionCreate',
    handle: h1,
    sectionId: bytes('empty'),
    expirationTime: TIME_END,
    initialData: new Uint8Array(0),
  });
  c.ok(1, 10, {
    kind: 'write',
    handle: h1,
    elements: [{ sectionId: bytes('a'), offset: 5, data: bytes(' world') }],
  });
  const read = c.ok(3, 30, {
    kind: 'read',
    handle: h3,
    elements: [
      { sectionId: bytes('a'), offset: 0, size: 100 },
      { sectionId: bytes('a'), offset: 6, size: 3 },
      { sectionId: bytes('empty'), offset: 0, size: 10 },
    ],
  });
  assert.deepEqual(read.data!.map(text), ['hello world', 'wor', '']);
  c.ok(2, 20, { kind: 'open', name: 'ck', flags: RW }); // no attributes: opens whatever exists
  const status = c.ok(3, 30, { kind: 'status', handle: h3 }).status!;
  assert.equal(status.numberOfSections, 2);
  assert.equal(status.memoryUsed, 11);
  assert.deepEqual(status.attributes, ATTRS);
  const it = c.ok(3, 30, {
    kind: 'iterationInitialize',
    handle: h3,
    sectionsChosen: SectionsChosen.Any,
    expirationTime: 0,
  }).iteration!;
  const first = c.ok(3, 30, { kind: 'iterationNext', iteration: it }).descriptor!;
  const second = c.ok(3, 30, { kind: 'iterationNext', iteration: it }).descriptor!;
  assert.deepEqual([text(first.sectionId), first.sectionSize], ['a', 11]);
  assert.deepEqual([text(second.sectionId), second.sectionSize], ['empty', 0]);
  c.fails(3, 30, { kind: 'iterationNext', iteration: it }, 'NO_SECTIONS');
  c.ok(3, 30, { kind: 'iterationFinalize', iteration: it });
  c.fails(3, 30, { kind: 'iterationNext', iteration: it }, 'BAD_HANDLE');
  c.ok(1, 10, { kind: 'overwrite', handle: h1, sectionId: bytes('a'), data: bytes('x') });
  assert.deepEqual(
    c
      .ok(2, 20, { kind: 'read', handle: 1, elements: [{ sectionId: bytes('a'), offset: 0, size: 9 }] })
      .data!.map(text),
    ['x'],
  );
  c.ok(1, 10, { kind: 'sectionDelete', handle: h1, sectionId: bytes('a') });
  c.fails(
    3,
    30,
    { kind: 'read', handle: h3, elements: [{ sectionId: bytes('a'), offset: 0, size: 1 }] },
    'NOT_EXIST',
  );
  assert.equal(c.node(1).ckpt.database.byId.values().next().value!.refcounts.size, 3);
  c.assertReplicasAgree();
});

test('iteration filters: forever, before and after an expiration time', () => {
  const c = new CkptCluster([1, 2]);
  const h = c.open(1, 1, 'it');
  const mk = (id: string, exp: number): void => {
    c.ok(1, 1, {
      kind: 'sectionCreate',
      handle: h,
      sectionId: bytes(id),
      expirationTime: exp,
      initialData: bytes(id),
    });
  };
  mk('f', TIME_END);
  mk('early', 5_000);
  mk('late', 9_000);
  const list = (chosen: SectionsChosen, time: number): string[] => {
    const it = c.ok(1, 1, {
      kind: 'iterationInitialize',
      handle: h,
      sectionsChosen: chosen,
      expirationTime: time,
    }).iteration!;
    const out: string[] = [];
    for (;;) {
      const r = c.call(1, 1, { kind: 'iterationNext', iteration: it });
      if (r.error) {
        assert.equal(r.error.aisName, 'NO_SECTIONS');
        return out.sort();
      }
      out.push(text(r.descriptor!.sectionId));
    }
  };
  assert.deepEqual(list(SectionsChosen.Forever, 0), ['f']);
  assert.deepEqual(list(SectionsChosen.LeqExpirationTime, 6_000), ['early']);
  assert.deepEqual(list(SectionsChosen.GeqExpirationTime, 6_000), ['f', 'late']);
  assert.deepEqual(list(SectionsChosen.Any, 0), ['early', 'f', 'late']);
  assert.deepEqual(list(SectionsChosen.Corrupted, 0), []);
  c.fails(
    1,
    1,
    { kind: 'iterationInitialize', handle: h, sectionsChosen: 9 as SectionsChosen, expirationTime: 0 },
    'INVALID_PARAM',
  );
});

test('generated section ids, and the default section of a one-section checkpoint', () => {
  const c = new CkptCluster([1, 2]);
  const h = c.open(1, 1, 'gen');
  const a = c.ok(1, 1, {
    kind: 'sectionCreate',
    handle: h,
    expirationTime: TIME_END,
    initialData: bytes('1'),
  }).sectionId!;
  const b = c.ok(1, 1, {
    kind: 'sectionCreate',
    handle: h,
    expirationTime: TIME_END,
    initialData: bytes('2'),
  }).sectionId!;
  assert.equal(a.length, 4);
  assert.notDeepEqual(a, b);
  const one = c.open(2, 2, 'single', RW_CREATE, { ...ATTRS, maxSections: 1, checkpointSize: 1024 });
  const def = new Uint8Array(0);
  c.ok(2, 2, { kind: 'write', handle: one, elements: [{ sectionId: def, offset: 0, data: bytes('dflt') }] });
  assert.deepEqual(
    c.ok(1, 1, { kind: 'open', name: 'single', flags: OpenFlags.Read }).handle !== undefined,
    true,
  );
  c.fails(
    2,
    2,
    { kind: 'sectionCreate', handle: one, sectionId: bytes('x'), expirationTime: TIME_END, initialData: def },
    'EXIST',
  );
  c.fails(2, 2, { kind: 'sectionDelete', handle: one, sectionId: def }, 'INVALID_PARAM');
  c.fails(
    2,
    2,
    { kind: 'expirationTimeSet', handle: one, sectionId: def, expirationTime: 5 },
    'INVALID_PARAM',
  );
  c.assertReplicasAgree();
});

test('unlink: the checkpoint lives until its last close; a new open with CREATE makes a new one', () => {
  const c = new CkptCluster([1, 2]);
  const h1 = c.open(1, 1, 'u');
  const h2 = c.open(2, 2, 'u', RW, undefined);
  c.ok(1, 1, {
    kind: 'sectionCreate',
    handle: h1,
    sectionId: bytes('s'),
    expirationTime: TIME_END,
    initialData: bytes('old'),
  });
  c.ok(2, 2, { kind: 'unlink', name: 'u' });
  c.fails(1, 1, { kind: 'open', name: 'u', flags: OpenFlags.Read }, 'NOT_EXIST');
  const fresh = c.open(1, 3, 'u');
  c.fails(
    1,
    3,
    { kind: 'read', handle: fresh, elements: [{ sectionId: bytes('s'), offset: 0, size: 3 }] },
    'NOT_EXIST',
  );
  // The unlinked one still serves its open handles.
  assert.deepEqual(
    c
      .ok(2, 2, { kind: 'read', handle: h2, elements: [{ sectionId: bytes('s'), offset: 0, size: 3 }] })
      .data!.map(text),
    ['old'],
  );
  c.fails(1, 1, { kind: 'retentionDurationSet', handle: h1, duration: 5 }, 'BAD_OPERATION');
  assert.equal(c.node(1).ckpt.database.byId.size, 2);
  c.ok(1, 1, { kind: 'close', handle: h1 });
  assert.equal(c.node(2).ckpt.database.byId.size, 2);
  c.ok(2, 2, { kind: 'close', handle: h2 });
  assert.equal(c.node(2).ckpt.database.byId.size, 1, 'freed at the last close');
  c.fails(2, 2, { kind: 'close', handle: h2 }, 'BAD_HANDLE');
  c.fails(2, 2, { kind: 'unlink', name: 'nope' }, 'NOT_EXIST');
  c.assertReplicasAgree();
});

test('retention: an unreferenced checkpoint is removed by an ordered expiry once its retention passes', () => {
  const c = new CkptCluster([1, 2, 3]);
  const h = c.open(2, 1, 'keep', RW_CREATE, { ...ATTRS, retentionDuration: 500 });
  c.ok(2, 1, { kind: 'retentionDurationSet', handle: h, duration: 2_000 });
  c.ok(2, 1, { kind: 'close', handle: h });
  const closedAt = c.now;
  assert.equal(c.node(3).ckpt.nextDeadline(), closedAt + 2_000);
  c.tick(closedAt + 1_999);
  assert.equal(c.node(3).ckpt.database.byId.size, 1);
  // Reopened before expiry: nothing expires.
  const again = c.open(3, 1, 'keep', OpenFlags.Read, undefined);
  c.tick(closedAt + 5_000);
  assert.equal(c.node(1).ckpt.database.byId.size, 1);
  c.ok(3, 1, { kind: 'close', handle: again });
  c.tick(c.now + 2_001);
  for (const n of c.live()) assert.equal(n.ckpt.database.byId.size, 0);
  assert.equal(c.node(1).ckpt.stats.expiriesSent, 1, 'only the lowest node sends expiries');
  assert.equal(c.node(2).ckpt.stats.expiriesSent, 0);
});

test('section expiry is an ordered update; changing the expiration time first cancels it', () => {
  const c = new CkptCluster([1, 2]);
  const h = c.open(1, 1, 'exp');
  c.ok(1, 1, {
    kind: 'sectionCreate',
    handle: h,
    sectionId: bytes('a'),
    expirationTime: 3_000,
    initialData: bytes('A'),
  });
  c.ok(1, 1, {
    kind: 'sectionCreate',
    handle: h,
    sectionId: bytes('b'),
    expirationTime: 3_000,
    initialData: bytes('B'),
  });
  c.ok(2, 1, { kind: 'open', name: 'exp', flags: RW });
  c.ok(2, 1, { kind: 'expirationTimeSet', handle: 1, sectionId: bytes('b'), expirationTime: 9_000 });
  c.tick(3_000);
  const s = c.node(2).ckpt.database.linked.get('exp')!.sections;
  assert.deepEqual(
    [...s.values()].map((x) => text(x.id)),
    ['b'],
  );
  c.tick(9_000);
  assert.equal(c.node(2).ckpt.database.linked.get('exp')!.sections.size, 0);
  c.assertReplicasAgree();
});

test('synchronize: OK for asynchronous checkpoints, BAD_OPERATION for synchronous ones', () => {
  const c = new CkptCluster([1]);
  const a = c.open(1, 1, 'async');
  c.ok(1, 1, { kind: 'synchronize', handle: a });
  const s = c.open(1, 1, 'sync', RW_CREATE, { ...ATTRS, creationFlags: CreationFlags.WrAllReplicas });
  c.fails(1, 1, { kind: 'synchronize', handle: s }, 'BAD_OPERATION');
});

test('a client going away closes its handles through the ring', () => {
  const c = new CkptCluster([1, 2]);
  c.open(1, 7, 'gone');
  c.open(1, 7, 'gone', RW, undefined);
  c.open(1, 8, 'gone', RW, undefined);
  c.node(1).ckpt.clientGone(7, c.now);
  c.settle();
  assert.equal(c.node(1).ckpt.openHandles, 1);
  assert.equal(c.node(2).ckpt.database.linked.get('gone')!.refcounts.get(1), 1);
});
