import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  decodeCancelReply,
  decodeListReply,
  decodeLostEvent,
  decodeRequest,
  decodeTestReply,
  encodeCancelReply,
  encodeListReply,
  encodeLostEvent,
  encodeRequest,
  encodeTestReply,
  parsePlockErrorText,
  plockErrorText,
} from '../../src/services/plock/ipc-protocol.js';
import {
  decodeMessage,
  decodeRecords,
  encodeMessage,
  encodeRecords,
  type PlockMessage,
  parseSectionName,
  sectionName,
} from '../../src/services/plock/wire.js';
import { DecodeError } from '../../src/wire/decode-error.js';

/** fast-check records have no prototype; decoded ones do. */
const plain = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const offset = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });
const space = fc.string({ minLength: 1, maxLength: 20 });
const rangeArb = fc.tuple(offset, offset).map(([a, b]) => ({ start: Math.min(a, b), end: Math.max(a, b) }));
const lockArb = fc
  .record({ nodeId: u32, client: u32, owner: u32, exclusive: fc.boolean(), range: rangeArb })
  .map(({ range, ...l }) => ({ ...l, ...range }));
const records = fc.record({
  locks: fc.array(lockArb, { maxLength: 4 }),
  waiters: fc.array(
    fc.tuple(lockArb, u32).map(([l, reqId]) => ({ ...l, reqId })),
    { maxLength: 4 },
  ),
});
const ring = fc.record({ rep: u32, seq: offset });

const message: fc.Arbitrary<PlockMessage> = fc.oneof(
  fc
    .record({
      op: fc.constantFrom('lock' as const, 'unlock' as const, 'cancel' as const),
      origin: u32,
      client: u32,
      reqId: u32,
      target: u32,
      exclusive: fc.boolean(),
      wait: fc.boolean(),
      space,
      inode: offset,
      range: rangeArb,
      owner: u32,
    })
    .map(({ range, ...m }) => ({ kind: 'op' as const, ...m, ...range })),
  fc.record({ kind: fc.constant('close' as const), origin: u32, client: u32 }),
  fc.record({ kind: fc.constant('own' as const), space, inode: offset }),
  fc.record({ kind: fc.constant('handover' as const), space, inode: offset, records }),
  fc.record({
    kind: fc.constant('hello' as const),
    ringId: ring,
    initialized: fc.boolean(),
    state: fc.record({ ring, count: offset, digest: u32 }),
    incarnation: u32,
  }),
  fc.record({ kind: fc.constant('stored' as const), ringId: ring }),
);

test('property: every plock message and record set round-trips', () => {
  fc.assert(
    fc.property(message, (m) => {
      assert.deepEqual(decodeMessage(encodeMessage(m)), plain(m));
    }),
  );
  fc.assert(
    fc.property(records, (r) => {
      const bytes = encodeRecords(r);
      assert.equal(bytes.length === 0, r.locks.length === 0 && r.waiters.length === 0, 'empty iff nothing');
      assert.deepEqual(decodeRecords(bytes), plain(r));
    }),
  );
});

test('property: damaged messages throw DecodeError and nothing else', () => {
  fc.assert(
    fc.property(message, fc.nat(), fc.integer({ min: 0, max: 255 }), fc.boolean(), (m, at, byte, cut) => {
      const bytes = encodeMessage(m);
      const bad = cut ? bytes.subarray(0, at % bytes.length) : bytes.slice();
      if (!cut) bad[at % bad.length] = byte;
      try {
        decodeMessage(bad);
      } catch (e) {
        assert.ok(e instanceof DecodeError, String(e));
      }
    }),
  );
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
      try {
        decodeRecords(b);
      } catch (e) {
        assert.ok(e instanceof DecodeError, String(e));
      }
    }),
  );
});

test('section names are r<inode>.<owner>; anything else is refused', () => {
  assert.equal(sectionName(74, 1), 'r74.1');
  assert.deepEqual(parseSectionName('r74.1'), { inode: 74, owner: 1 });
  assert.deepEqual(parseSectionName(`r${Number.MAX_SAFE_INTEGER}.0`), {
    inode: Number.MAX_SAFE_INTEGER,
    owner: 0,
  });
  for (const bad of ['r74', 'x1.2', 'r01.2', 'r1.4294967296', 'r99999999999999999.1', 'r1.2.3', '']) {
    assert.equal(parseSectionName(bad), undefined, bad);
  }
});

test('IPC requests and replies round-trip; error texts carry the plock code', () => {
  const reqs = [
    {
      kind: 'lock' as const,
      token: 5,
      exclusive: true,
      wait: false,
      space: 'fs',
      inode: 3,
      start: 1,
      end: 9,
      owner: 7,
    },
    { kind: 'unlock' as const, space: 'fs', inode: 3, start: 0, end: 9, owner: 7 },
    { kind: 'test' as const, exclusive: false, space: 'fs', inode: 3, start: 0, end: 9, owner: 7 },
    { kind: 'cancel' as const, token: 5 },
    { kind: 'list' as const, space: 'fs' },
    { kind: 'list' as const, space: 'fs', inode: 12 },
  ];
  for (const r of reqs) {
    const { op, payload } = encodeRequest(r);
    assert.deepEqual(decodeRequest(op, payload), r);
  }
  assert.throws(() => decodeRequest(99, new Uint8Array(0)), DecodeError);
  const h = { space: 'fs', inode: 3, start: 0, end: 9, exclusive: true, nodeId: 2, owner: 7 };
  assert.deepEqual(decodeTestReply(encodeTestReply(h)), h);
  assert.equal(decodeTestReply(encodeTestReply(undefined)), undefined);
  assert.deepEqual(decodeListReply(encodeListReply([h, h])), [h, h]);
  assert.deepEqual(decodeLostEvent(encodeLostEvent(h)), h);
  assert.throws(() => decodeLostEvent(encodeLostEvent(h).subarray(1)), DecodeError);
  assert.equal(decodeCancelReply(encodeCancelReply(true)), true);
  assert.deepEqual(parsePlockErrorText(`BUSY: ${plockErrorText('WOULD_BLOCK', '')}`), {
    code: 'WOULD_BLOCK',
    detail: '',
  });
  assert.equal(parsePlockErrorText('BUSY: PLOCK_NONSENSE'), undefined);
});
