import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { decodeFrame, encodeFrame, type Frame, FrameSplitter, IPC_MAGIC } from '../../src/ipc/codec.js';
import {
  decodeExecMessage,
  encodeJoinList,
  encodeMcastHeader,
  encodeProcMessage,
} from '../../src/services/cpg/exec-messages.js';
import * as P from '../../src/services/cpg/ipc-protocol.js';
import { DecodeError } from '../../src/wire/decode-error.js';

const bytes = (max = 64) => fc.uint8Array({ maxLength: max });
const u32 = fc.nat({ max: 0xffffffff });
const u16 = fc.nat({ max: 0xffff });

const frameArb: fc.Arbitrary<Frame> = fc.oneof(
  fc.record({
    type: fc.constant('hello' as const),
    magic: fc.constant(IPC_MAGIC),
    version: u16,
    pid: u32,
    name: fc.string({ maxLength: 40 }),
  }),
  fc.record({ type: fc.constant('welcome' as const), version: u16, conn: u32, nodeId: u32, maxFrame: u32 }),
  fc.record({ type: fc.constant('request' as const), reqId: u32, service: u16, op: u16, payload: bytes() }),
  fc.record({ type: fc.constant('reply' as const), reqId: u32, code: u16, payload: bytes() }),
  fc.record({ type: fc.constant('event' as const), service: u16, event: u16, payload: bytes() }),
  fc.record({ type: fc.constant('farewell' as const), code: u16, text: fc.string({ maxLength: 40 }) }),
);

function onlyDecodeError(f: () => unknown): void {
  try {
    f();
  } catch (err) {
    assert.ok(err instanceof DecodeError, `threw ${String(err)}`);
  }
}

test('ipc codec: frames round-trip through a splitter fed in arbitrary pieces', () => {
  fc.assert(
    fc.property(
      fc.array(frameArb, { minLength: 1, maxLength: 8 }),
      fc.array(fc.nat(40), { maxLength: 20 }),
      (frames, cuts) => {
        const stream = Buffer.concat(frames.map((f) => encodeFrame(f)));
        const splitter = new FrameSplitter(1 << 20);
        const out: Frame[] = [];
        let at = 0;
        for (const cut of cuts) {
          const end = Math.min(stream.length, at + cut);
          for (const body of splitter.push(stream.subarray(at, end))) out.push(decodeFrame(body));
          at = end;
        }
        for (const body of splitter.push(stream.subarray(at))) out.push(decodeFrame(body));
        assert.equal(splitter.pendingBytes, 0);
        const plain = (f: Frame) =>
          Object.fromEntries(Object.entries(f).map(([k, v]) => [k, v instanceof Uint8Array ? [...v] : v]));
        assert.deepEqual(out.map(plain), frames.map(plain));
      },
    ),
    { numRuns: 500 },
  );
});

test('ipc codec: the splitter refuses an oversized length before buffering the body', () => {
  const s = new FrameSplitter(100);
  const head = Buffer.alloc(4);
  head.writeUInt32LE(101);
  assert.throws(
    () => s.push(head),
    (e: unknown) => e instanceof DecodeError && e.code === 'bad-length',
  );
  const ok = new FrameSplitter(100);
  head.writeUInt32LE(100);
  assert.deepEqual(ok.push(head), []);
  assert.equal(ok.pendingBytes, 4);
});

test('every decoder of client and cpg messages throws nothing but DecodeError on arbitrary bytes', () => {
  const decoders: ((b: Uint8Array) => unknown)[] = [
    decodeFrame,
    decodeExecMessage,
    P.decodeGroupRequest,
    P.decodeMcastRequest,
    P.decodeEmptyRequest,
    P.decodeMembers,
    P.decodeGroupsReply,
    P.decodeLocalReply,
    P.decodeDeliverEvent,
    P.decodeConfchgEvent,
    P.decodeTotemEvent,
  ];
  fc.assert(
    fc.property(bytes(200), fc.nat(3), (input, lead) => {
      // Half the time start with a valid kind byte so decoders get past the first field.
      const b = input.length > 0 && lead < 2 ? Uint8Array.of(lead + 1, ...input) : input;
      for (const d of decoders) onlyDecodeError(() => d(b));
    }),
    { numRuns: 3000 },
  );
});

test('cpg messages round-trip; truncations and extensions are refused', () => {
  const g = new TextEncoder().encode('group');
  const samples: Uint8Array[] = [
    encodeProcMessage('procjoin', 77, 5, 1, g),
    encodeProcMessage('procleave', 77, 5, 5, g),
    encodeJoinList(
      { rep: 3, seq: 2 ** 40 + 8 },
      [4, 9],
      [
        { pid: 1, group: g, leaving: false },
        { pid: 2, group: Uint8Array.of(1), leaving: true },
      ],
    ),
    P.encodeConfchgEvent({
      group: g,
      members: [{ nodeId: 1, pid: 2, reason: 0 }],
      left: [{ nodeId: 3, pid: 4, reason: 3 }],
      joined: [],
    }),
  ];
  assert.deepEqual(decodeExecMessage(samples[0]!), {
    kind: 'procjoin',
    pid: 77,
    conn: 5,
    reason: 1,
    group: g,
  });
  const jl = decodeExecMessage(samples[2]!);
  assert.equal(jl.kind, 'joinlist');
  assert.deepEqual(jl.kind === 'joinlist' && jl.ringId, { rep: 3, seq: 2 ** 40 + 8 });
  assert.deepEqual(jl.kind === 'joinlist' && jl.entries.map((e) => e.leaving), [false, true]);
  assert.deepEqual(jl.kind === 'joinlist' && jl.down, [4, 9]);
  const m = decodeExecMessage(Buffer.concat([encodeMcastHeader(9, 1, g), Buffer.from('data')]));
  assert.deepEqual(m.kind === 'mcast' && [m.pid, Buffer.from(m.data).toString()], [9, 'data']);
  const decodeAny = (i: number, b: Uint8Array) => (i < 3 ? decodeExecMessage(b) : P.decodeConfchgEvent(b));
  samples.forEach((s, i) => {
    for (let cut = 0; cut < s.length; cut++) {
      assert.throws(() => decodeAny(i, s.subarray(0, cut)), DecodeError, `sample ${i} cut at ${cut}`);
    }
    assert.throws(() => decodeAny(i, Buffer.concat([s, Uint8Array.of(0)])), DecodeError);
  });
  // A group name above 128 bytes or empty is refused on the wire.
  assert.throws(
    () => decodeExecMessage(encodeProcMessage('procjoin', 1, 1, 1, new Uint8Array(129))),
    DecodeError,
  );
  assert.throws(
    () => decodeExecMessage(encodeProcMessage('procjoin', 1, 1, 1, new Uint8Array(0))),
    DecodeError,
  );
});
