import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  aisErrorText,
  type CkptWireRequest,
  decodeDescriptorReply,
  decodeHandleReply,
  decodeListReply,
  decodeReadReply,
  decodeRequest,
  decodeSectionIdReply,
  decodeStatusReply,
  encodeDescriptorReply,
  encodeListReply,
  encodeReadReply,
  encodeRequest,
  encodeStatusReply,
  parseAisErrorText,
} from '../../src/services/ckpt/ipc-protocol.js';
import { DecodeError } from '../../src/wire/decode-error.js';

const b = (s: string) => new TextEncoder().encode(s);
const attributes = {
  creationFlags: 1,
  checkpointSize: 1000,
  retentionDuration: Number.POSITIVE_INFINITY,
  maxSections: 4,
  maxSectionSize: 250,
  maxSectionIdSize: 8,
};

const REQUESTS: CkptWireRequest[] = [
  { kind: 'open', name: 'név', flags: 7, attributes },
  { kind: 'open', name: 'x', flags: 1 },
  { kind: 'close', handle: 9 },
  { kind: 'unlink', name: 'x' },
  { kind: 'retentionDurationSet', handle: 1, duration: 5.5 },
  { kind: 'sectionCreate', handle: 1, sectionId: b('id'), expirationTime: 77, initialData: b('data') },
  {
    kind: 'sectionCreate',
    handle: 1,
    expirationTime: Number.POSITIVE_INFINITY,
    initialData: new Uint8Array(0),
  },
  { kind: 'sectionDelete', handle: 2, sectionId: new Uint8Array(0) },
  {
    kind: 'write',
    handle: 3,
    elements: [
      { sectionId: b('a'), offset: 4, data: b('zz') },
      { sectionId: b('b'), offset: 0, data: new Uint8Array(0) },
    ],
  },
  { kind: 'overwrite', handle: 3, sectionId: b('a'), data: b('q') },
  { kind: 'read', handle: 3, elements: [{ sectionId: b('a'), offset: 1, size: 2 }] },
  { kind: 'expirationTimeSet', handle: 3, sectionId: b('a'), expirationTime: 12 },
  { kind: 'iterationInitialize', handle: 3, sectionsChosen: 2, expirationTime: 3 },
  { kind: 'iterationNext', iteration: 5 },
  { kind: 'iterationFinalize', iteration: 5 },
  { kind: 'status', handle: 4 },
  { kind: 'synchronize', handle: 4 },
  { kind: 'list' },
];

const plain = (v: unknown) =>
  JSON.parse(JSON.stringify(v, (_k, x) => (x instanceof Uint8Array ? [...x] : x)));

test('ckpt ipc protocol: every request round-trips', () => {
  for (const req of REQUESTS) {
    const { op, payload } = encodeRequest(req);
    assert.deepEqual(plain(decodeRequest(op, payload)), plain(req), req.kind);
  }
});

test('ckpt ipc protocol: replies round-trip', () => {
  const status = { attributes, numberOfSections: 2, memoryUsed: 30 };
  assert.deepEqual(decodeStatusReply(encodeStatusReply(status)), status);
  const d = { sectionId: b('s'), expirationTime: 5, sectionSize: 3, sectionState: 1 as const, lastUpdate: 9 };
  assert.deepEqual(plain(decodeDescriptorReply(encodeDescriptorReply(d))), plain(d));
  assert.deepEqual(plain(decodeReadReply(encodeReadReply([b('x'), new Uint8Array(0)]))), [[120], []]);
  const list = [{ name: 'a', numberOfSections: 1, memoryUsed: 2, openHandles: 3 }];
  assert.deepEqual(decodeListReply(encodeListReply(list)), list);
  assert.equal(decodeHandleReply(new Uint8Array([7, 0, 0, 0])), 7);
  assert.deepEqual([...decodeSectionIdReply(new Uint8Array([1, 0, 65]))], [65]);
});

test('ckpt ipc protocol: AIS error text keeps the name and the element', () => {
  assert.deepEqual(parseAisErrorText(aisErrorText('NO_SPACE', 2, 'full: really')), {
    aisName: 'NO_SPACE',
    errorIndex: 2,
    detail: 'full: really',
  });
  assert.deepEqual(parseAisErrorText(aisErrorText('TRY_AGAIN', undefined, '')), {
    aisName: 'TRY_AGAIN',
    errorIndex: undefined,
    detail: '',
  });
  assert.equal(parseAisErrorText('SA_AIS_ERR_NONSENSE'), undefined);
  assert.equal(parseAisErrorText('refused'), undefined);
});

test('ckpt ipc protocol: damaged requests and replies only ever throw DecodeError', () => {
  const encoded = REQUESTS.map(encodeRequest);
  const decoders = [
    decodeStatusReply,
    decodeDescriptorReply,
    decodeReadReply,
    decodeListReply,
    decodeHandleReply,
  ];
  fc.assert(
    fc.property(
      fc.nat(encoded.length - 1),
      fc.nat(40),
      fc.uint8Array({ maxLength: 40 }),
      fc.integer({ min: 0, max: 20 }),
      (which, cut, junk, op) => {
        const { op: realOp, payload } = encoded[which]!;
        const damaged = new Uint8Array([...payload.subarray(0, cut), ...junk]);
        for (const [o, p] of [
          [realOp, damaged],
          [op, junk],
        ] as const) {
          try {
            decodeRequest(o, p);
          } catch (e) {
            assert.ok(e instanceof DecodeError, String(e));
          }
        }
        for (const dec of decoders) {
          try {
            dec(junk);
          } catch (e) {
            assert.ok(e instanceof DecodeError, String(e));
          }
        }
      },
    ),
    { numRuns: 500, seed: 42 },
  );
  assert.throws(() => decodeRequest(99, new Uint8Array(0)), DecodeError);
  assert.throws(() => decodeRequest(1, new Uint8Array([0, 0, 0, 0, 2])), DecodeError);
  assert.throws(() => decodeRequest(7, new Uint8Array([1, 0, 0, 0, 255, 255, 255, 255])), DecodeError);
});
