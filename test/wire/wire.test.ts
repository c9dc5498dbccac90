import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { DecodeError } from '../../src/wire/decode-error.js';
import { WireReader } from '../../src/wire/reader.js';
import { allocBytes, copyBytes } from '../../src/wire/slab.js';
import { WireWriter } from '../../src/wire/writer.js';

type Field =
  | { readonly k: 'u8' | 'u16' | 'u32' | 'i32' | 'u53' | 'f64'; readonly v: number }
  | { readonly k: 'bytes'; readonly v: Uint8Array };

const field: fc.Arbitrary<Field> = fc.oneof(
  fc.nat(0xff).map((v) => ({ k: 'u8' as const, v })),
  fc.nat(0xffff).map((v) => ({ k: 'u16' as const, v })),
  fc.nat(0xffffffff).map((v) => ({ k: 'u32' as const, v })),
  fc.integer({ min: -0x80000000, max: 0x7fffffff }).map((v) => ({ k: 'i32' as const, v })),
  fc.maxSafeNat().map((v) => ({ k: 'u53' as const, v })),
  fc.double({ noNaN: true }).map((v) => ({ k: 'f64' as const, v })),
  fc.uint8Array({ maxLength: 40 }).map((v) => ({ k: 'bytes' as const, v })),
);

function write(w: WireWriter, f: Field): void {
  if (f.k === 'bytes') w.bytes(f.v);
  else w[f.k](f.v);
}

function read(r: WireReader, f: Field): number | Uint8Array {
  return f.k === 'bytes' ? r.bytesView(f.v.length).slice() : r[f.k]();
}

/** The layout the DataView methods give, as the reference for the byte-by-byte code. */
function reference(fields: readonly Field[]): Uint8Array {
  const out: number[] = [];
  for (const f of fields) {
    if (f.k === 'bytes') {
      out.push(...f.v);
      continue;
    }
    const b = new DataView(new ArrayBuffer(8));
    let n = 8;
    switch (f.k) {
      case 'u8':
        b.setUint8(0, f.v);
        n = 1;
        break;
      case 'u16':
        b.setUint16(0, f.v, true);
        n = 2;
        break;
      case 'u32':
        b.setUint32(0, f.v, true);
        n = 4;
        break;
      case 'i32':
        b.setInt32(0, f.v, true);
        n = 4;
        break;
      case 'u53':
        b.setBigUint64(0, BigInt(f.v), true);
        break;
      case 'f64':
        b.setFloat64(0, f.v, true);
        break;
    }
    out.push(...new Uint8Array(b.buffer, 0, n));
  }
  return Uint8Array.from(out);
}

test('a writer lays fields out as DataView would, and a reader reads them back', () => {
  fc.assert(
    fc.property(fc.array(field, { maxLength: 30 }), fc.nat(300), (fields, initial) => {
      const w = new WireWriter(initial);
      for (const f of fields) write(w, f);
      const bytes = w.finish();
      assert.deepEqual(bytes, reference(fields));
      const r = new WireReader(bytes, 'test');
      for (const f of fields) assert.deepEqual(read(r, f), f.v);
      r.end();
    }),
  );
});

test('a reset writer reuses its buffer and forgets what was written; finish copies', () => {
  const w = new WireWriter(4);
  w.u32(0xdeadbeef).u32(1);
  const first = w.finish();
  w.reset().u16(0x0102);
  const second = w.finish();
  assert.deepEqual(second, Uint8Array.from([2, 1]));
  assert.deepEqual(first, Uint8Array.from([0xef, 0xbe, 0xad, 0xde, 1, 0, 0, 0]));
});

test('patches overwrite earlier fields and refuse positions not yet written', () => {
  const w = new WireWriter(16);
  w.u16(0).u32(0).u8(9);
  w.patchU16(0, 0xbeef);
  w.patchU32(2, 0x01020304);
  assert.deepEqual(w.finish(), Uint8Array.from([0xef, 0xbe, 4, 3, 2, 1, 9]));
  assert.throws(() => w.patchU32(4, 1), RangeError);
  assert.throws(() => w.patchU16(-1, 1), RangeError);
});

test('u53 refuses what a u64 field cannot carry exactly', () => {
  const w = new WireWriter();
  assert.throws(() => w.u53(-1), RangeError);
  assert.throws(() => w.u53(2 ** 53), RangeError);
  assert.throws(() => w.u53(1.5), RangeError);
  const big = new Uint8Array(8).fill(0xff);
  assert.throws(
    () => new WireReader(big, 'test').u53(),
    (e: unknown) => e instanceof DecodeError && e.code === 'bad-value',
  );
});

test('every short read throws DecodeError truncated, never RangeError', () => {
  const reads: ((r: WireReader) => unknown)[] = [
    (r) => r.u8(),
    (r) => r.u16(),
    (r) => r.u32(),
    (r) => r.i32(),
    (r) => r.u53(),
    (r) => r.f64(),
    (r) => r.bytesView(3),
  ];
  for (const readOne of reads) {
    const r = new WireReader(new Uint8Array(10).subarray(9), 'test');
    if (readOne === reads[0]) {
      readOne(r);
      continue;
    }
    assert.throws(
      () => readOne(r),
      (e: unknown) => e instanceof DecodeError && e.code === 'truncated',
    );
  }
});

test('a reader over a view reads only the view', () => {
  const backing = Uint8Array.from([0xaa, 1, 0, 0, 0, 0xbb]);
  const r = new WireReader(backing.subarray(1, 5), 'test');
  assert.equal(r.u32(), 1);
  r.end();
});

test('slab arrays are zeroed, independent, aligned, and large ones get their own buffer', () => {
  const seen: Uint8Array[] = [];
  for (let n = 0; n < 3000; n += 37) {
    const a = allocBytes(n);
    assert.equal(a.length, n);
    assert.ok(a.every((b) => b === 0));
    assert.equal(a.byteOffset % 8, 0);
    a.fill(n & 0xff);
    seen.push(a);
  }
  // Filling one never touched another.
  for (const a of seen) assert.ok(a.every((b) => b === (a.length & 0xff)));
  const big = allocBytes(5000);
  assert.equal(big.byteOffset, 0);
  assert.equal(big.buffer.byteLength, 5000);
  const src = Uint8Array.from([1, 2, 3]);
  const copy = copyBytes(src);
  src[0] = 9;
  assert.deepEqual(copy, Uint8Array.from([1, 2, 3]));
});
