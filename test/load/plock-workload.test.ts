import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_PLOCK_WORKLOAD, PlockWorkload, TO_EOF } from '../../src/load/plock-workload.js';

test('plock workload: an owner replays the same plans from the same seed, whatever the other owners did', () => {
  const a = new PlockWorkload({ ...DEFAULT_PLOCK_WORKLOAD, seed: 3 });
  const b = new PlockWorkload({ ...DEFAULT_PLOCK_WORKLOAD, seed: 3 });
  const c = new PlockWorkload({ ...DEFAULT_PLOCK_WORKLOAD, seed: 4 });
  const fromA = Array.from({ length: 50 }, () => a.plan('1/0'));
  for (let i = 0; i < 30; i++) b.plan('2/5'); // Interleaving with another owner changes nothing.
  const fromB = Array.from({ length: 50 }, () => b.plan('1/0'));
  assert.deepEqual(fromA, fromB);
  assert.notDeepEqual(
    fromA,
    Array.from({ length: 50 }, () => c.plan('1/0')),
  );
});

test('plock workload: plans stay within the configured space, inodes, ranges and times, with every kind present', () => {
  const w = new PlockWorkload({ ...DEFAULT_PLOCK_WORKLOAD, seed: 9 });
  const o = w.options;
  let exclusive = 0;
  let tries = 0;
  let eof = 0;
  const n = 2000;
  for (let i = 0; i < n; i++) {
    const p = w.plan(`n/${i % 7}`);
    assert.equal(p.range.space, o.space);
    assert.ok(p.range.inode >= 0 && p.range.inode < o.inodes);
    assert.ok(p.range.start >= 0 && p.range.start < o.fileSize);
    if (p.range.end === TO_EOF) eof++;
    else assert.ok(p.range.end >= p.range.start && p.range.end < p.range.start + o.maxLength);
    assert.ok(p.holdMs >= o.holdMs[0] && p.holdMs <= o.holdMs[1]);
    assert.ok(p.thinkMs >= o.thinkMs[0] && p.thinkMs <= o.thinkMs[1]);
    if (p.exclusive) exclusive++;
    if (!p.wait) tries++;
  }
  assert.ok(exclusive > n * 0.4 && exclusive < n * 0.6, `exclusive ${exclusive}`);
  assert.ok(tries > n * 0.1 && tries < n * 0.3, `tries ${tries}`);
  assert.ok(eof > 0 && eof < n * 0.1, `eof ${eof}`);
});
