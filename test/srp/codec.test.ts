import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { Guarantee } from '../../src/core/io.js';
import { MAGIC, totemCodec, VERSION } from '../../src/srp/codec.js';
import { type McastMessage, MessageType, RTR_ENTRIES_MAX, type SrpMessage } from '../../src/srp/messages.js';
import { DecodeError } from '../../src/wire/decode-error.js';
import { WireWriter } from '../../src/wire/writer.js';

const ring = { rep: 3, seq: 2 ** 40 + 17 };
const inner: McastMessage = {
  type: MessageType.Mcast,
  sender: 7,
  origin: 7,
  seq: 0xfffffffe,
  ringId: { rep: 1, seq: 9 },
  guarantee: Guarantee.Safe,
  encapsulated: null,
  payload: new Uint8Array([1, 2, 3, 4, 5]),
};

const samples: SrpMessage[] = [
  {
    type: MessageType.Token,
    sender: 3,
    seq: 100,
    tokenSeq: 0xffffffff,
    aru: 98,
    aruAddr: 5,
    ringId: ring,
    backlog: 12,
    fcc: 40,
    retransFlg: true,
    rtr: [
      { ringId: ring, seq: 99 },
      { ringId: { rep: 1, seq: 5 }, seq: 97 },
    ],
  },
  {
    type: MessageType.Token,
    sender: 4,
    seq: 0,
    tokenSeq: 0,
    aru: 0,
    aruAddr: 0,
    ringId: ring,
    backlog: 0,
    fcc: 0,
    retransFlg: false,
    rtr: Array.from({ length: RTR_ENTRIES_MAX }, (_, i) => ({ ringId: ring, seq: i + 1 })),
  },
  inner,
  { ...inner, payload: new Uint8Array(0), guarantee: Guarantee.Agreed },
  {
    type: MessageType.Mcast,
    sender: 9,
    origin: 9,
    seq: 4,
    ringId: ring,
    guarantee: Guarantee.Safe,
    encapsulated: inner,
    payload: new Uint8Array(0),
  },
  { type: MessageType.MergeDetect, sender: 3, ringId: ring },
  { type: MessageType.Join, sender: 2, leave: false, ringSeq: 44, procList: [1, 2, 3], failedList: [4] },
  { type: MessageType.Join, sender: 4, leave: true, ringSeq: 44, procList: [1, 2, 3], failedList: [4] },
  { type: MessageType.Join, sender: 4, leave: false, ringSeq: 0, procList: [4], failedList: [] },
  {
    type: MessageType.CommitToken,
    sender: 3,
    tokenSeq: 7,
    ringId: ring,
    retransFlg: false,
    membIndex: 1,
    members: [3, 8],
    entries: [
      { ringId: { rep: 3, seq: 12 }, aru: 10, highDelivered: 9, receivedFlg: true },
      { ringId: { rep: 0, seq: 0 }, aru: 0, highDelivered: 0, receivedFlg: false },
    ],
  },
  { type: MessageType.TokenHoldCancel, sender: 3, ringId: ring },
];

function decodeOrError(bytes: Uint8Array): SrpMessage | DecodeError {
  try {
    return totemCodec.decode(bytes);
  } catch (err) {
    if (err instanceof DecodeError) return err;
    throw err;
  }
}

test('every message type survives an encode/decode round trip', () => {
  for (const msg of samples) {
    const bytes = totemCodec.encode(msg);
    assert.equal(bytes[0]! | (bytes[1]! << 8), MAGIC);
    assert.equal(bytes[2], VERSION);
    assert.equal(bytes[3], msg.type);
    assert.deepEqual(totemCodec.decode(bytes), msg);
  }
});

test('every truncation of every message is a DecodeError', () => {
  for (const msg of samples) {
    const bytes = totemCodec.encode(msg);
    for (let n = 0; n < bytes.length; n++) {
      const r = decodeOrError(bytes.subarray(0, n));
      assert.ok(r instanceof DecodeError, `type ${msg.type} cut at ${n} must not decode`);
    }
    const extra = new Uint8Array(bytes.length + 1);
    extra.set(bytes);
    assert.ok(decodeOrError(extra) instanceof DecodeError, 'trailing byte');
  }
});

test('random bit flips decode or fail with DecodeError, never another error', () => {
  const encoded = samples.map((m) => totemCodec.encode(m));
  fc.assert(
    fc.property(
      fc.nat(encoded.length - 1),
      fc.array(fc.tuple(fc.nat(), fc.nat(7)), { minLength: 1, maxLength: 6 }),
      (which, flips) => {
        const bytes = encoded[which]!.slice();
        for (const [pos, bit] of flips) bytes[pos % bytes.length]! ^= 1 << bit;
        const r = decodeOrError(bytes);
        if (!(r instanceof DecodeError)) assert.deepEqual(totemCodec.decode(totemCodec.encode(r)), r);
      },
    ),
    { numRuns: 3000, seed: 7 },
  );
});

test('random bytes never throw anything but DecodeError', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
      decodeOrError(bytes);
    }),
    { numRuns: 2000, seed: 11 },
  );
});

test('specific malformed headers are refused with their code', () => {
  const good = totemCodec.encode(samples[5]!);
  const badMagic = good.slice();
  badMagic[0] = 0;
  assert.equal((decodeOrError(badMagic) as DecodeError).code, 'bad-magic');
  const badVersion = good.slice();
  badVersion[2] = 9;
  assert.equal((decodeOrError(badVersion) as DecodeError).code, 'bad-version');
  const badType = good.slice();
  badType[3] = 6;
  assert.equal((decodeOrError(badType) as DecodeError).code, 'bad-type');
  const zeroSender = good.slice();
  zeroSender.fill(0, 5, 9);
  assert.equal((decodeOrError(zeroSender) as DecodeError).code, 'bad-value');
  const unsortedJoin = totemCodec.encode({
    type: MessageType.Join,
    sender: 2,
    leave: false,
    ringSeq: 1,
    procList: [1, 2],
    failedList: [],
  });
  unsortedJoin.set([9, 0, 0, 0], unsortedJoin.length - 8);
  assert.equal((decodeOrError(unsortedJoin) as DecodeError).code, 'bad-value');
});

test('a recovery wrapper may not nest another wrapper', () => {
  const wrapped = samples[4] as McastMessage;
  assert.throws(() => totemCodec.encode({ ...wrapped, encapsulated: wrapped }), RangeError);
  const innerWrapper = totemCodec.encode(wrapped);
  const w = new WireWriter();
  w.u16(MAGIC).u8(VERSION).u8(MessageType.Mcast).u8(1).u32(9);
  w.u32(9)
    .u32(5)
    .u32(3)
    .u53(2 ** 40 + 17)
    .u8(0)
    .u32(innerWrapper.length)
    .bytes(innerWrapper);
  const nested = decodeOrError(w.finish());
  assert.ok(nested instanceof DecodeError, 'nested wrappers are refused');
});

test('tokens and plain mcasts (written without the writer) have the layout the writer gives', () => {
  const ringIdArb = fc.record({ rep: fc.integer({ min: 1, max: 0xffffffff }), seq: fc.maxSafeNat() });
  const u32 = fc.nat(0xffffffff);
  const token = fc.record({
    sender: fc.integer({ min: 1, max: 0xffffffff }),
    seq: u32,
    tokenSeq: u32,
    aru: u32,
    aruAddr: u32,
    ringId: ringIdArb,
    backlog: u32,
    fcc: u32,
    retransFlg: fc.boolean(),
    rtr: fc.array(
      fc.record({ ringId: ringIdArb, seq: u32 }).map((r) => ({ ringId: { ...r.ringId }, seq: r.seq })),
      { maxLength: RTR_ENTRIES_MAX },
    ),
  });
  fc.assert(
    fc.property(token, (t) => {
      const msg: SrpMessage = { type: MessageType.Token, ...t, ringId: { ...t.ringId } };
      const w = new WireWriter();
      w.u16(MAGIC).u8(VERSION).u8(MessageType.Token).u8(0).u32(t.sender);
      w.u32(t.seq).u32(t.tokenSeq).u32(t.aru).u32(t.aruAddr).u32(t.ringId.rep).u53(t.ringId.seq);
      w.u32(t.backlog)
        .u32(t.fcc)
        .u8(t.retransFlg ? 1 : 0)
        .u16(t.rtr.length);
      for (const r of t.rtr) w.u32(r.ringId.rep).u53(r.ringId.seq).u32(r.seq);
      const bytes = totemCodec.encode(msg);
      assert.deepEqual(bytes, w.finish());
      assert.deepEqual(totemCodec.decode(bytes), msg);
    }),
  );
  const mcast = fc.record({
    sender: fc.integer({ min: 1, max: 0xffffffff }),
    origin: fc.integer({ min: 1, max: 0xffffffff }),
    seq: u32,
    ringId: ringIdArb,
    guarantee: fc.constantFrom(Guarantee.Agreed, Guarantee.Safe),
    payload: fc.uint8Array({ maxLength: 3000 }),
  });
  fc.assert(
    fc.property(mcast, (m) => {
      const msg: McastMessage = {
        type: MessageType.Mcast,
        ...m,
        ringId: { ...m.ringId },
        encapsulated: null,
      };
      const w = new WireWriter();
      w.u16(MAGIC).u8(VERSION).u8(MessageType.Mcast).u8(0).u32(m.sender);
      w.u32(m.origin).u32(m.seq).u32(m.ringId.rep).u53(m.ringId.seq).u8(m.guarantee);
      w.u32(m.payload.length).bytes(m.payload);
      const bytes = totemCodec.encode(msg);
      assert.deepEqual(bytes, w.finish());
      assert.deepEqual(totemCodec.decode(bytes), msg);
    }),
  );
});
