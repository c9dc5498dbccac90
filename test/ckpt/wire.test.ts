import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { UpdateEnvelope } from '../../src/services/ckpt/database.js';
import { TIME_END } from '../../src/services/ckpt/types.js';
import {
  decodeCkptMessage,
  encodeCheckpoint,
  encodeEnd,
  encodeHello,
  encodeSectionPieces,
  encodeUpdate,
} from '../../src/services/ckpt/wire.js';
import { decodeSyncMessage, encodeSyncMessage, SyncMsgType } from '../../src/sync/wire.js';
import { DecodeError } from '../../src/wire/decode-error.js';
import { ATTRS, bytes } from './cluster.js';

const concat = (pieces: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(pieces.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of pieces) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};

const ringId = { rep: 3, seq: 2 ** 40 + 4 };

test('every ckpt message round-trips', () => {
  const updates: UpdateEnvelope['update'][] = [
    { op: 'open', name: 'ñame', flags: 7, attributes: { ...ATTRS, retentionDuration: TIME_END } },
    { op: 'open', name: 'n', flags: 1, attributes: undefined },
    { op: 'close', ckptId: '1.0.5' },
    { op: 'unlink', name: 'n' },
    { op: 'retentionDurationSet', ckptId: 'a', duration: 12.5 },
    {
      op: 'sectionCreate',
      ckptId: 'a',
      sectionId: bytes('s'),
      expiration: TIME_END,
      data: new Uint8Array(0),
    },
    { op: 'sectionCreate', ckptId: 'a', sectionId: undefined, expiration: 5, data: bytes('d') },
    { op: 'sectionDelete', ckptId: 'a', sectionId: new Uint8Array(0) },
    {
      op: 'write',
      ckptId: 'a',
      elements: [
        { sectionId: bytes('s'), offset: 9, data: bytes('w') },
        { sectionId: bytes('t'), offset: 0, data: new Uint8Array(0) },
      ],
    },
    { op: 'overwrite', ckptId: 'a', sectionId: bytes('s'), data: bytes('o') },
    { op: 'expirationTimeSet', ckptId: 'a', sectionId: bytes('s'), expiration: 77 },
    { op: 'synchronize', ckptId: 'a' },
    { op: 'expireRetention', ckptId: 'a', version: 2 ** 33 },
    { op: 'expireSection', ckptId: 'a', sectionId: bytes('s'), expiration: 77 },
  ];
  for (const update of updates) {
    const env: UpdateEnvelope = {
      origin: 4,
      incarnation: 9,
      seq: 0xffffffff,
      time: 1234.5,
      ringId: { rep: 7, seq: 2 ** 40 + 3 },
      update,
    };
    assert.deepEqual(decodeCkptMessage(encodeUpdate(env)), { kind: 'update', env });
  }
  const hello = { ringId, sender: true, groupSize: 3, time: 5, handles: [{ ckptId: 'x', count: 2 }] };
  assert.deepEqual(decodeCkptMessage(encodeHello(hello)), { kind: 32, ...hello });
  const ck = {
    ringId,
    ckptId: 'x',
    name: 'n',
    attributes: ATTRS,
    unlinked: true,
    nextGeneratedId: 3,
    version: 9,
    unreferencedSince: undefined,
    sections: 2,
  };
  assert.deepEqual(decodeCkptMessage(encodeCheckpoint(ck)), { kind: 33, ...ck });
  const sec = {
    ringId,
    ckptId: 'x',
    sectionId: new Uint8Array(0),
    expiration: TIME_END,
    lastUpdate: 3,
    data: new Uint8Array(0),
  };
  const pieces = encodeSectionPieces(sec);
  assert.equal(pieces.at(-1)!.length, 0, 'an empty section ends with an empty piece');
  assert.deepEqual(decodeCkptMessage(concat(pieces)), { kind: 34, ...sec });
  assert.deepEqual(decodeCkptMessage(encodeEnd({ ringId, checkpoints: 1, sections: 2 })), {
    kind: 35,
    ringId,
    checkpoints: 1,
    sections: 2,
  });
  const list = { type: SyncMsgType.ServiceList, ringId, services: ['ckpt', 'cpg'] } as const;
  assert.deepEqual(decodeSyncMessage(encodeSyncMessage(list)), list);
  const barrier = { type: SyncMsgType.Barrier, ringId, index: 1, service: 'cpg' } as const;
  assert.deepEqual(decodeSyncMessage(encodeSyncMessage(barrier)), barrier);
});

test('decoders throw nothing but DecodeError on damaged input', () => {
  const samples = [
    encodeUpdate({
      origin: 1,
      incarnation: 0,
      seq: 1,
      time: 0,
      ringId: { rep: 1, seq: 4 },
      update: {
        op: 'write',
        ckptId: 'a',
        elements: [{ sectionId: bytes('s'), offset: 1, data: bytes('xyz') }],
      },
    }),
    encodeHello({ ringId, sender: false, groupSize: 1, time: 0, handles: [{ ckptId: 'a', count: 1 }] }),
    concat(
      encodeSectionPieces({
        ringId,
        ckptId: 'x',
        sectionId: bytes('s'),
        expiration: 1,
        lastUpdate: 2,
        data: bytes('data'),
      }),
    ),
    encodeSyncMessage({ type: SyncMsgType.ServiceList, ringId, services: ['a', 'b'] }),
  ];
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: samples.length - 1 }),
      fc.array(fc.tuple(fc.nat(), fc.nat(255))),
      fc.nat(),
      (which, flips, cut) => {
        const b = samples[which]!.slice();
        for (const [at, v] of flips) b[at % b.length] = v;
        const damaged = b.subarray(0, cut % (b.length + 1));
        for (const decode of [decodeCkptMessage, decodeSyncMessage]) {
          try {
            decode(damaged);
          } catch (e) {
            assert.ok(e instanceof DecodeError, String(e));
          }
        }
      },
    ),
    { numRuns: 3000 },
  );
  assert.throws(
    () => decodeCkptMessage(new Uint8Array([99, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])),
    DecodeError,
  );
  assert.throws(
    () => decodeCkptMessage(concat([encodeEnd({ ringId, checkpoints: 0, sections: 0 }), new Uint8Array(1)])),
    DecodeError,
  );
});
