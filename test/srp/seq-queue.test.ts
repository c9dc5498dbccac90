import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { SeqQueue } from '../../src/srp/seq-queue.js';

type Op = { readonly k: 'set' | 'delete' | 'get'; readonly seq: number };

test('a SeqQueue answers as a Map would, for seqs in a window that may wrap past 2^32', () => {
  const op = (base: number): fc.Arbitrary<Op> =>
    fc.record({
      k: fc.constantFrom('set' as const, 'delete' as const, 'get' as const),
      seq: fc.integer({ min: 0, max: 3000 }).map((d) => (base + d) >>> 0),
    });
  fc.assert(
    fc.property(
      fc
        .constantFrom(0, 1000, 0xffffff00, 0xfffffff0)
        .chain((base) => fc.array(op(base), { maxLength: 400 })),
      fc.nat(300),
      (ops, initial) => {
        const q = new SeqQueue<string>(initial);
        const m = new Map<number, string>();
        for (const [i, o] of ops.entries()) {
          if (o.k === 'set') {
            q.set(o.seq, `v${i}`);
            m.set(o.seq, `v${i}`);
          } else if (o.k === 'delete') assert.equal(q.delete(o.seq), m.delete(o.seq));
          assert.equal(q.get(o.seq), m.get(o.seq));
          assert.equal(q.has(o.seq), m.has(o.seq));
          assert.equal(q.size, m.size);
        }
        for (const [seq, v] of m) assert.equal(q.get(seq), v);
        q.clear();
        assert.equal(q.size, 0);
        for (const seq of m.keys()) assert.equal(q.has(seq), false);
      },
    ),
  );
});

test('a SeqQueue refuses what is not a u32 seq, and undefined values', () => {
  const q = new SeqQueue<number>();
  assert.throws(() => q.set(-1, 1), RangeError);
  assert.throws(() => q.set(2 ** 32, 1), RangeError);
  assert.throws(() => q.set(1.5, 1), RangeError);
  assert.throws(() => q.set(1, undefined as unknown as number), RangeError);
});
