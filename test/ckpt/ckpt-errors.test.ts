import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AisError, aisErrorName, CkptError } from '../../src/services/ckpt/errors.js';
import { CreationFlags, OpenFlags, TIME_END } from '../../src/services/ckpt/types.js';
import { ATTRS, bytes, CkptCluster, RW, RW_CREATE } from './cluster.js';

const create = (c: CkptCluster, handle: number, id: string, data = ''): void => {
  c.ok(1, 1, {
    kind: 'sectionCreate',
    handle,
    sectionId: bytes(id),
    expirationTime: TIME_END,
    initialData: bytes(data),
  });
};

test('error codes carry the AIS numbers and names', () => {
  const e = new CkptError(AisError.NOT_EXIST, 'x');
  assert.equal(e.code, 12);
  assert.equal(e.aisName, 'NOT_EXIST');
  assert.match(e.message, /SA_AIS_ERR_NOT_EXIST: x/);
  assert.equal(aisErrorName(26), 'TOO_BIG');
  assert.equal(aisErrorName(99), undefined);
});

test('NOT_EXIST: open without CREATE, unlink, and section operations on a missing section', () => {
  const c = new CkptCluster([1, 2]);
  c.fails(1, 1, { kind: 'open', name: 'none', flags: OpenFlags.Read }, 'NOT_EXIST');
  c.fails(1, 1, { kind: 'unlink', name: 'none' }, 'NOT_EXIST');
  const h = c.open(1, 1, 'ck');
  const missing = bytes('missing');
  c.fails(1, 1, { kind: 'sectionDelete', handle: h, sectionId: missing }, 'NOT_EXIST');
  c.fails(1, 1, { kind: 'overwrite', handle: h, sectionId: missing, data: bytes('x') }, 'NOT_EXIST');
  c.fails(1, 1, { kind: 'expirationTimeSet', handle: h, sectionId: missing, expirationTime: 1 }, 'NOT_EXIST');
  c.fails(
    1,
    1,
    { kind: 'read', handle: h, elements: [{ sectionId: missing, offset: 0, size: 1 }] },
    'NOT_EXIST',
  );
  create(c, h, 'a');
  const w = c.fails(
    1,
    1,
    {
      kind: 'write',
      handle: h,
      elements: [
        { sectionId: bytes('a'), offset: 0, data: bytes('ok') },
        { sectionId: missing, offset: 0, data: bytes('no') },
      ],
    },
    'NOT_EXIST',
  );
  assert.equal(w.errorIndex, 1, 'the failing element is named; the ones before it were applied');
  assert.equal(c.node(2).ckpt.database.linked.get('ck')!.sections.get('61')!.data.length, 2);
});

test('EXIST: create with different attributes, a duplicate section id, a section in a one-section checkpoint', () => {
  const c = new CkptCluster([1, 2]);
  const h = c.open(1, 1, 'ck');
  c.fails(
    2,
    1,
    { kind: 'open', name: 'ck', flags: RW_CREATE, attributes: { ...ATTRS, maxSections: 9 } },
    'EXIST',
  );
  // The same attributes (retention aside) open the existing one.
  c.ok(2, 1, { kind: 'open', name: 'ck', flags: RW_CREATE, attributes: { ...ATTRS, retentionDuration: 5 } });
  create(c, h, 'a');
  c.fails(
    1,
    1,
    {
      kind: 'sectionCreate',
      handle: h,
      sectionId: bytes('a'),
      expirationTime: TIME_END,
      initialData: bytes(''),
    },
    'EXIST',
  );
  const one = c.open(1, 1, 'one', RW_CREATE, { ...ATTRS, maxSections: 1, checkpointSize: 100 });
  c.fails(
    1,
    1,
    {
      kind: 'sectionCreate',
      handle: one,
      sectionId: bytes('b'),
      expirationTime: TIME_END,
      initialData: bytes(''),
    },
    'EXIST',
  );
});

test('NO_SPACE: too many sections, or more data than the checkpoint size', () => {
  const c = new CkptCluster([1]);
  const h = c.open(1, 1, 'small', RW_CREATE, {
    ...ATTRS,
    maxSections: 2,
    checkpointSize: 10,
    maxSectionSize: 8,
  });
  create(c, h, 'a', '12345');
  create(c, h, 'b', '1234');
  c.fails(
    1,
    1,
    {
      kind: 'sectionCreate',
      handle: h,
      sectionId: bytes('c'),
      expirationTime: TIME_END,
      initialData: bytes(''),
    },
    'NO_SPACE',
  );
  c.fails(1, 1, { kind: 'overwrite', handle: h, sectionId: bytes('b'), data: bytes('1234567') }, 'NO_SPACE');
  c.fails(
    1,
    1,
    { kind: 'write', handle: h, elements: [{ sectionId: bytes('a'), offset: 5, data: bytes('xx') }] },
    'NO_SPACE',
  );
  c.ok(1, 1, {
    kind: 'write',
    handle: h,
    elements: [{ sectionId: bytes('a'), offset: 5, data: bytes('x') }],
  });
});

test('TOO_BIG: a write or overwrite past the maximum section size, or a request pg cannot carry', () => {
  const c = new CkptCluster([1]);
  const h = c.open(1, 1, 'ck', RW_CREATE, { ...ATTRS, maxSectionSize: 8, checkpointSize: 64 });
  create(c, h, 'a', 'x');
  c.fails(
    1,
    1,
    { kind: 'write', handle: h, elements: [{ sectionId: bytes('a'), offset: 4, data: bytes('12345') }] },
    'TOO_BIG',
  );
  c.fails(1, 1, { kind: 'overwrite', handle: h, sectionId: bytes('a'), data: bytes('123456789') }, 'TOO_BIG');
  const big = c.open(1, 1, 'big', RW_CREATE, {
    ...ATTRS,
    maxSectionSize: 600_000,
    checkpointSize: 4_000_000,
  });
  create(c, big, 'b');
  const part = new Uint8Array(600_000);
  const elements = [0, 1].map(() => ({ sectionId: bytes('b'), offset: 0, data: part }));
  c.fails(1, 1, { kind: 'write', handle: big, elements }, 'TOO_BIG'); // 1.2 MB: more than one pg message
});

test('INVALID_PARAM: bad open arguments, oversized ids and data, bad offsets', () => {
  const c = new CkptCluster([1]);
  c.fails(1, 1, { kind: 'open', name: 'x', flags: RW_CREATE }, 'INVALID_PARAM'); // CREATE without attributes
  c.fails(1, 1, { kind: 'open', name: 'x', flags: RW, attributes: ATTRS }, 'INVALID_PARAM'); // attributes without CREATE
  c.fails(
    1,
    1,
    { kind: 'open', name: 'x', flags: RW_CREATE, attributes: { ...ATTRS, checkpointSize: 9 * 1024 } },
    'INVALID_PARAM',
  );
  c.fails(
    1,
    1,
    {
      kind: 'open',
      name: 'x',
      flags: RW_CREATE,
      attributes: { ...ATTRS, creationFlags: CreationFlags.Collocated },
    },
    'INVALID_PARAM',
  );
  c.fails(
    1,
    1,
    { kind: 'open', name: 'x', flags: RW_CREATE, attributes: { ...ATTRS, maxSections: 0 } },
    'INVALID_PARAM',
  );
  c.fails(1, 1, { kind: 'open', name: '', flags: OpenFlags.Read }, 'INVALID_PARAM');
  // A section that could not travel in one sync message.
  const huge = { ...ATTRS, maxSectionSize: 2 << 20, checkpointSize: 2 << 20 };
  c.fails(1, 1, { kind: 'open', name: 'x', flags: RW_CREATE, attributes: huge }, 'INVALID_PARAM');
  const longIds = { ...ATTRS, maxSectionIdSize: 70_000 };
  c.fails(1, 1, { kind: 'open', name: 'x', flags: RW_CREATE, attributes: longIds }, 'INVALID_PARAM');
  // A section that could not travel in one sync message.
  c.fails(
    1,
    1,
    {
      kind: 'open',
      name: 'x',
      flags: RW_CREATE,
      attributes: { ...ATTRS, maxSectionSize: 2 << 20, checkpointSize: 2 << 20 },
    },
    'INVALID_PARAM',
  );
  c.fails(
    1,
    1,
    { kind: 'open', name: 'x', flags: RW_CREATE, attributes: { ...ATTRS, maxSectionIdSize: 70_000 } },
    'INVALID_PARAM',
  );
  const h = c.open(1, 1, 'ck');
  c.fails(
    1,
    1,
    {
      kind: 'sectionCreate',
      handle: h,
      sectionId: bytes('x'.repeat(17)),
      expirationTime: TIME_END,
      initialData: bytes(''),
    },
    'INVALID_PARAM',
  );
  c.fails(
    1,
    1,
    {
      kind: 'sectionCreate',
      handle: h,
      sectionId: bytes('a'),
      expirationTime: TIME_END,
      initialData: new Uint8Array(1025),
    },
    'INVALID_PARAM',
  );
  create(c, h, 'a', 'abc');
  c.fails(
    1,
    1,
    { kind: 'read', handle: h, elements: [{ sectionId: bytes('a'), offset: 4, size: 1 }] },
    'INVALID_PARAM',
  );
  c.fails(
    1,
    1,
    { kind: 'read', handle: h, elements: [{ sectionId: bytes('a'), offset: 0, size: 2048 }] },
    'INVALID_PARAM',
  );
  c.fails(
    1,
    1,
    { kind: 'write', handle: h, elements: [{ sectionId: bytes('a'), offset: -1, data: bytes('x') }] },
    'INVALID_PARAM',
  );
  c.fails(1, 1, { kind: 'retentionDurationSet', handle: h, duration: -1 }, 'INVALID_PARAM');
});

test('BAD_FLAGS and NAME_TOO_LONG are refused locally', () => {
  const c = new CkptCluster([1]);
  c.fails(1, 1, { kind: 'open', name: 'x', flags: 0x10 }, 'BAD_FLAGS');
  c.fails(
    1,
    1,
    { kind: 'open', name: 'x', flags: RW_CREATE, attributes: { ...ATTRS, creationFlags: 0x12 } },
    'BAD_FLAGS',
  );
  c.fails(1, 1, { kind: 'open', name: 'n'.repeat(257), flags: OpenFlags.Read }, 'NAME_TOO_LONG');
  assert.equal(c.node(1).ckpt.stats.updatesSent, 0);
});

test('ACCESS: writing through a read-only handle, reading through a write-only one', () => {
  const c = new CkptCluster([1]);
  const rw = c.open(1, 1, 'ck');
  create(c, rw, 'a', 'x');
  const ro = c.open(1, 1, 'ck', OpenFlags.Read, undefined);
  const wo = c.open(1, 1, 'ck', OpenFlags.Write, undefined);
  c.fails(
    1,
    1,
    { kind: 'write', handle: ro, elements: [{ sectionId: bytes('a'), offset: 0, data: bytes('y') }] },
    'ACCESS',
  );
  c.fails(
    1,
    1,
    {
      kind: 'sectionCreate',
      handle: ro,
      sectionId: bytes('b'),
      expirationTime: TIME_END,
      initialData: bytes(''),
    },
    'ACCESS',
  );
  c.fails(1, 1, { kind: 'overwrite', handle: ro, sectionId: bytes('a'), data: bytes('y') }, 'ACCESS');
  c.fails(1, 1, { kind: 'sectionDelete', handle: ro, sectionId: bytes('a') }, 'ACCESS');
  c.fails(
    1,
    1,
    { kind: 'read', handle: wo, elements: [{ sectionId: bytes('a'), offset: 0, size: 1 }] },
    'ACCESS',
  );
});

test("BAD_HANDLE: unknown, closed, or another client's handle", () => {
  const c = new CkptCluster([1]);
  c.fails(1, 1, { kind: 'status', handle: 99 }, 'BAD_HANDLE');
  const h = c.open(1, 1, 'ck');
  c.fails(1, 2, { kind: 'status', handle: h }, 'BAD_HANDLE');
  c.ok(1, 1, { kind: 'close', handle: h });
  c.fails(1, 1, { kind: 'status', handle: h }, 'BAD_HANDLE');
  c.fails(1, 1, { kind: 'iterationNext', iteration: 5 }, 'BAD_HANDLE');
});

test('BAD_OPERATION: retention on an unlinked checkpoint, synchronize on a synchronous one', () => {
  const c = new CkptCluster([1]);
  const h = c.open(1, 1, 'ck');
  c.ok(1, 1, { kind: 'unlink', name: 'ck' });
  c.fails(1, 1, { kind: 'retentionDurationSet', handle: h, duration: 5 }, 'BAD_OPERATION');
  const s = c.open(1, 1, 'sync', RW_CREATE, { ...ATTRS, creationFlags: CreationFlags.WrAllReplicas });
  c.fails(1, 1, { kind: 'synchronize', handle: s }, 'BAD_OPERATION');
});

test('NO_SECTIONS: the end of an iteration', () => {
  const c = new CkptCluster([1]);
  const h = c.open(1, 1, 'ck');
  const it = c.ok(1, 1, { kind: 'iterationInitialize', handle: h, sectionsChosen: 5, expirationTime: 0 })
    .iteration!;
  c.fails(1, 1, { kind: 'iterationNext', iteration: it }, 'NO_SECTIONS');
});

test('TRY_AGAIN: the send queue is full, or the update was ordered in a sync round that aborted', () => {
  const c = new CkptCluster([1, 2], 1);
  const h = c.open(1, 1, 'ck');
  create(c, h, 'a');
  const first = c.send(1, 1, {
    kind: 'overwrite',
    handle: h,
    sectionId: bytes('a'),
    data: new Uint8Array(1000),
  });
  const second = c.send(1, 1, {
    kind: 'overwrite',
    handle: h,
    sectionId: bytes('a'),
    data: new Uint8Array(1000),
  });
  const third = c.send(1, 1, {
    kind: 'overwrite',
    handle: h,
    sectionId: bytes('a'),
    data: new Uint8Array(1000),
  });
  assert.equal(c.replyTo(1, first), undefined);
  assert.equal(c.replyTo(1, second)?.error?.aisName, 'TRY_AGAIN');
  assert.equal(c.replyTo(1, third)?.error?.aisName, 'TRY_AGAIN');
  c.settle();
  assert.equal(c.replyTo(1, first)?.error, undefined);

  // An update ordered while a round runs waits; the round aborts; the update is answered TRY_AGAIN.
  c.net.reconfigure([[1, 2]], true);
  const during = c.send(2, 2, { kind: 'open', name: 'later', flags: RW_CREATE, attributes: ATTRS });
  c.net.visit(2); // ordered (deferred: the round is still running)
  assert.equal(c.node(1).ckpt.stats.updatesDeferred, 1);
  c.net.reconfigure([[1, 2]], true);
  assert.equal(c.replyTo(2, during)?.error?.aisName, 'TRY_AGAIN');
  c.settle();
  assert.equal(c.node(1).ckpt.database.linked.has('later'), false);
  c.assertReplicasAgree();
});

test('an update ordered during a round is applied right after activate, on every member', () => {
  const c = new CkptCluster([1, 2, 3]);
  c.net.reconfigure([[1, 2, 3]], true);
  const r = c.send(3, 1, { kind: 'open', name: 'deferred', flags: RW_CREATE, attributes: ATTRS });
  c.net.visit(3);
  assert.equal(c.replyTo(3, r), undefined);
  c.settle();
  assert.equal(c.replyTo(3, r)?.error, undefined);
  for (const n of c.live()) assert.equal(n.ckpt.database.linked.has('deferred'), true);
  c.assertReplicasAgree();
});
