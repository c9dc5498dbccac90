import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { DenseIdSet } from '../../src/sim/dense-id-set.js';
import { IdList } from '../../src/sim/id-list.js';
import { SeqOwners } from '../../src/sim/seq-owners.js';

test('SeqOwners answers as a Map would, for seqs around its base, below it and across 2^32', () => {
  fc.assert(
    fc.property(
      fc.constantFrom(0, 7, 0xfffffff0),
      fc.array(fc.tuple(fc.integer({ min: -40, max: 5000 }), fc.nat(2 ** 33)), { maxLength: 300 }),
      (base, sets) => {
        const o = new SeqOwners();
        const m = new Map<number, number>();
        for (const [d, id] of sets) {
          const seq = (base + d) >>> 0;
          o.set(seq, id);
          m.set(seq, id);
        }
        for (const [seq, id] of m) assert.equal(o.get(seq), id);
        for (let d = -50; d < 50; d++) {
          const seq = (base + d) >>> 0;
          assert.equal(o.get(seq), m.get(seq));
        }
        assert.equal(o.get((base + 2 ** 30) >>> 0), m.get((base + 2 ** 30) >>> 0));
      },
    ),
  );
});

test('IdList and DenseIdSet keep what a plain array and a Set keep', () => {
  fc.assert(
    fc.property(
      fc.array(fc.nat(0xffffffff), { maxLength: 500 }),
      fc.array(fc.nat(70000), { maxLength: 500 }),
      (big, small) => {
        const list = new IdList();
        for (const id of big) list.push(id);
        assert.equal(list.length, big.length);
        for (const [i, id] of big.entries()) assert.equal(list.at(i), id);
        assert.throws(() => list.at(big.length), RangeError);
        const set = new DenseIdSet();
        const ref = new Set<number>();
        for (const id of small) {
          assert.equal(set.has(id), ref.has(id));
          set.add(id);
          ref.add(id);
        }
        assert.equal(set.size, ref.size);
        for (let id = 0; id < 200; id++) assert.equal(set.has(id), ref.has(id));
      },
    ),
  );
  assert.throws(() => new IdList().push(-1), RangeError);
  assert.throws(() => new DenseIdSet().add(1.5), RangeError);
});
