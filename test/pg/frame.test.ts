import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { crc32, crc32Portable } from '../../src/pg/checksum.js';
import {
  CHUNK_FIRST,
  CHUNK_LAST,
  decodeFrame,
  FrameBuilder,
  MIN_FRAME_BYTES,
  resealFrame,
} from '../../src/pg/frame.js';
import { ASSEMBLY_ERRORS } from '../../src/pg/reassembly.js';
import { ENUMS } from '../../src/recorder/events/index.js';
import { DECODE_ERROR_CODES, DecodeError } from '../../src/wire/decode-error.js';

const ascii = (s: string) => new TextEncoder().encode(s);

test('crc32 matches the standard check value, native and portable alike', () => {
  for (const f of [crc32, crc32Portable]) {
    assert.equal(f(ascii('123456789')), 0xcbf43926);
    assert.equal(f(new Uint8Array(0)), 0);
    assert.equal(f(ascii('xx123456789yy'), 2, 11), 0xcbf43926);
  }
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 2000 }), fc.nat(), (bytes, cut) => {
      const start = bytes.length === 0 ? 0 : cut % bytes.length;
      assert.equal(crc32(bytes, start), crc32Portable(bytes, start));
    }),
    { numRuns: 500 },
  );
});

test('a built frame decodes to the chunks written', () => {
  const b = new FrameBuilder(400);
  b.startChunk(CHUNK_LAST, 7, 3, new Uint8Array(0), 2);
  b.appendData(Uint8Array.of(1, 2));
  b.startChunk(CHUNK_FIRST | CHUNK_LAST, 8, 0, ascii('grp'), 0);
  b.startChunk(CHUNK_FIRST, 9, 10, ascii('a'), 3);
  b.appendData(Uint8Array.of(5, 6));
  b.appendData(Uint8Array.of(7));
  const frame = b.finish();
  const chunks = decodeFrame(frame);
  assert.deepEqual(
    chunks.map((c) => [c.flags, c.msgId, c.fragIndex, c.totalLen, [...c.group], [...c.data]]),
    [
      [CHUNK_LAST, 7, 3, -1, [], [1, 2]],
      [CHUNK_FIRST | CHUNK_LAST, 8, 0, 0, [...ascii('grp')], []],
      [CHUNK_FIRST, 9, 0, 10, [...ascii('a')], [5, 6, 7]],
    ],
  );
  assert.ok(b.isEmpty);
});

test('the builder refuses to overflow and the frame has a minimum size', () => {
  assert.throws(() => new FrameBuilder(MIN_FRAME_BYTES - 1), RangeError);
  const b = new FrameBuilder(MIN_FRAME_BYTES);
  assert.throws(() =>
    b.startChunk(CHUNK_FIRST | CHUNK_LAST, 1, MIN_FRAME_BYTES, new Uint8Array(0), MIN_FRAME_BYTES),
  );
});

function decodeFails(frame: Uint8Array, code?: string): void {
  try {
    decodeFrame(frame);
  } catch (err) {
    assert.ok(err instanceof DecodeError, `not a DecodeError: ${err}`);
    if (code) assert.equal(err.code, code);
    return;
  }
  assert.fail('decoded');
}

function sealed(edit: (v: DataView, f: Uint8Array) => void, base: Uint8Array): Uint8Array {
  const f = base.slice();
  edit(new DataView(f.buffer), f);
  resealFrame(f);
  return f;
}

test('decoder rules: each broken rule is a typed DecodeError', () => {
  const b = new FrameBuilder(400);
  b.startChunk(CHUNK_FIRST | CHUNK_LAST, 1, 2, ascii('a'), 2);
  b.appendData(Uint8Array.of(9, 9));
  b.startChunk(CHUNK_FIRST, 2, 5, ascii('a'), 1);
  b.appendData(Uint8Array.of(4));
  const good = b.finish();
  decodeFrame(good);
  // chunk 0 at 8: flags 8, msgId 9, totalLen 13, groupLen 17, group 18, dataLen 19, data 23..24
  decodeFails(
    sealed((v) => v.setUint8(4, 2), good),
    'bad-version',
  );
  decodeFails(
    sealed((v) => v.setUint8(5, 1), good),
    'bad-value',
  );
  decodeFails(
    sealed((v) => v.setUint16(6, 0), good),
    'bad-count',
  );
  // A third chunk that is not there: the second (unfinished) chunk is no longer last.
  decodeFails(sealed((v) => v.setUint16(6, 3, true), good));
  decodeFails(
    sealed((v) => v.setUint8(8, 7), good),
    'bad-value',
  ); // unknown flag bit
  decodeFails(sealed((v) => v.setUint8(8, CHUNK_LAST), good)); // continuation not first in frame? it is first: reparse
  decodeFails(
    sealed((v) => v.setUint8(8, CHUNK_FIRST), good),
    'bad-value',
  ); // unfinished chunk not last
  decodeFails(
    sealed((v) => v.setUint32(13, 3, true), good),
    'bad-length',
  ); // whole chunk, wrong total
  decodeFails(sealed((v) => v.setUint32(19, 3, true), good)); // data length overruns
  decodeFails(good.subarray(0, good.length - 1), 'bad-value'); // seal no longer matches
  const longer = new Uint8Array(good.length + 1);
  longer.set(good);
  decodeFails(
    sealed(() => {}, longer),
    'trailing-bytes',
  );
  decodeFails(sealed((_, f) => (f[30] = 0), good)); // total 5 first-not-last chunk decodes; flip breaks seal only
  decodeFails(Uint8Array.of(1, 2, 3), 'truncated');
});

test('decoder never throws anything but DecodeError on arbitrary bytes, sealed or not', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), fc.boolean(), (bytes, seal) => {
      const f = bytes.slice();
      if (seal && f.length >= 8) {
        f[4] = 1;
        f[5] = 0;
        resealFrame(f);
      }
      try {
        decodeFrame(f);
      } catch (err) {
        assert.ok(err instanceof DecodeError);
      }
    }),
    { numRuns: 3000 },
  );
});

test('recorded enums line up with the codes they index', () => {
  assert.deepEqual(ENUMS.pgDecodeError, DECODE_ERROR_CODES);
  assert.deepEqual(ENUMS.pgAssemblyError, ASSEMBLY_ERRORS);
});
