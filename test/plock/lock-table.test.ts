import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { LockTable } from '../../src/services/plock/lock-table.js';
import type { OwnerId } from '../../src/services/plock/types.js';

const o = (owner: number, nodeId = 1, client = 1): OwnerId => ({ nodeId, client, owner });
const lock = (owner: number, start: number, end: number, exclusive: boolean) => ({
  ...o(owner),
  start,
  end,
  exclusive,
});
const show = (t: LockTable): string =>
  t.locks.map((l) => `${l.owner}:${l.start}-${l.end}${l.exclusive ? 'x' : 's'}`).join(' ');

test('same-owner locks merge and split; other owners conflict only with an exclusive lock', () => {
  const t = new LockTable();
  assert.ok(t.tryLock(lock(1, 0, 9, false)));
  assert.ok(t.tryLock(lock(1, 10, 19, false)));
  assert.equal(show(t), '1:0-19s', 'adjacent shared ranges merge');
  assert.ok(t.tryLock(lock(1, 5, 7, true)), 'an owner upgrades part of its own range');
  assert.equal(show(t), '1:0-4s 1:5-7x 1:8-19s');
  assert.ok(t.tryLock(lock(2, 0, 4, false)), 'shared next to shared');
  assert.ok(!t.tryLock(lock(2, 7, 8, false)), 'shared over exclusive conflicts');
  assert.equal(t.test(o(2), 6, 6, false)?.owner, 1);
  assert.equal(t.test(o(1), 5, 100, true), undefined, 'own locks never conflict');
  assert.ok(t.unlock(o(1), 6, 6));
  assert.equal(show(t), '1:0-4s 2:0-4s 1:5-5x 1:7-7x 1:8-19s');
  assert.ok(!t.unlock(o(3), 0, 100), 'unlocking nothing changes nothing');
  assert.ok(t.tryLock(lock(1, 0, Number.MAX_SAFE_INTEGER, true)) === false, 'owner 2 still shares 0-4');
  assert.ok(t.unlock(o(2), 0, Number.MAX_SAFE_INTEGER));
  assert.ok(t.tryLock(lock(1, 0, Number.MAX_SAFE_INTEGER, true)));
  assert.equal(show(t), `1:0-${Number.MAX_SAFE_INTEGER}x`);
});

test('waiters are granted in FIFO order, later compatible ones may pass a blocked one', () => {
  const t = new LockTable();
  t.tryLock(lock(1, 0, 9, true));
  t.enqueue({ ...lock(2, 0, 0, true), reqId: 1 });
  t.enqueue({ ...lock(3, 0, 0, true), reqId: 2 });
  t.enqueue({ ...lock(4, 50, 60, true), reqId: 3 });
  assert.deepEqual(
    t.grantWaiters().map((w) => w.reqId),
    [3],
  );
  t.unlock(o(1), 0, 9);
  assert.deepEqual(
    t.grantWaiters().map((w) => w.reqId),
    [1],
  );
  assert.equal(t.cancel(1, 1, 2)?.owner, 3);
  assert.equal(t.cancel(1, 1, 2), undefined);
  assert.ok(t.releaseWhere((x) => x.owner === 2));
  assert.equal(show(t), '4:50-60x');
});

/** The brute-force model: per byte, per owner, the lock type held (or none), over bytes 0..15. */
type Model = Map<number, ('s' | 'x' | undefined)[]>;
const SIZE = 16;

function modelLock(m: Model, owner: number, s: number, e: number, x: boolean): boolean {
  for (const [other, bytes] of m) {
    if (other === owner) continue;
    for (let b = s; b <= e; b++) if (bytes[b] && (bytes[b] === 'x' || x)) return false;
  }
  const mine = m.get(owner) ?? new Array(SIZE).fill(undefined);
  for (let b = s; b <= e; b++) mine[b] = x ? 'x' : 's';
  m.set(owner, mine);
  return true;
}

function modelUnlock(m: Model, owner: number, s: number, e: number): void {
  const mine = m.get(owner);
  if (mine) for (let b = s; b <= e; b++) mine[b] = undefined;
}

function tableBytes(t: LockTable, owner: number): ('s' | 'x' | undefined)[] {
  const out: ('s' | 'x' | undefined)[] = new Array(SIZE).fill(undefined);
  for (const l of t.locks) {
    if (l.owner !== owner) continue;
    for (let b = l.start; b <= l.end; b++) {
      assert.equal(out[b], undefined, 'one owner never holds a byte twice');
      out[b] = l.exclusive ? 'x' : 's';
    }
  }
  return out;
}

test('property: the lock table matches a per-byte model, and keeps ranges merged', () => {
  const op = fc.record({
    owner: fc.integer({ min: 1, max: 3 }),
    a: fc.integer({ min: 0, max: SIZE - 1 }),
    b: fc.integer({ min: 0, max: SIZE - 1 }),
    kind: fc.constantFrom('s', 'x', 'u'),
  });
  fc.assert(
    fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
      const t = new LockTable();
      const m: Model = new Map();
      for (const { owner, a, b, kind } of ops) {
        const s = Math.min(a, b);
        const e = Math.max(a, b);
        if (kind === 'u') {
          t.unlock(o(owner), s, e);
          modelUnlock(m, owner, s, e);
        } else {
          const want = modelLock(m, owner, s, e, kind === 'x');
          assert.equal(t.tryLock(lock(owner, s, e, kind === 'x')), want);
        }
        for (const owner2 of [1, 2, 3]) {
          assert.deepEqual(tableBytes(t, owner2), m.get(owner2) ?? new Array(SIZE).fill(undefined));
        }
        // Merged: no two ranges of one owner and type touch.
        for (const x of t.locks)
          for (const y of t.locks) {
            if (x === y || x.owner !== y.owner || x.exclusive !== y.exclusive) continue;
            assert.ok(x.end + 1 < y.start || y.end + 1 < x.start, 'touching same-type ranges are merged');
          }
      }
    }),
    { numRuns: 300 },
  );
});
