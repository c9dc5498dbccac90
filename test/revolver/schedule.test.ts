import assert from 'node:assert/strict';
import { test } from 'node:test';
import { percentile } from '../../src/revolver/percentile.js';
import { KillSchedule, parseKillRange } from '../../src/revolver/schedule.js';

const opts = { seed: 42, nodes: [1, 2, 3, 4, 5], kill: { min: 1, max: 2 }, tokenMs: 1000 };

test('the same seed gives the same kill schedule; another seed another one', () => {
  const plans = (seed: number) => {
    const s = new KillSchedule({ ...opts, seed });
    return Array.from({ length: 50 }, () => s.next());
  };
  assert.deepEqual(plans(42), plans(42));
  assert.notDeepEqual(plans(42), plans(43));
});

test('victims are distinct, within the kill range, and leave a survivor; sync-time kills and restarts occur', () => {
  const s = new KillSchedule(opts);
  let staggered = 0;
  let early = 0;
  for (let i = 0; i < 400; i++) {
    const p = s.next();
    assert.equal(new Set(p.victims).size, p.victims.length);
    assert.ok(p.victims.length >= 1 && p.victims.length <= 2);
    assert.ok(p.victims.every((v) => opts.nodes.includes(v)));
    if (p.staggerMs > 0) staggered++;
    if (p.earlyRestartMs !== undefined) early++;
  }
  assert.ok(staggered > 20 && early > 40, `staggered ${staggered}, early ${early}`);
  assert.throws(() => new KillSchedule({ ...opts, kill: { min: 1, max: 5 } }), /must survive/);
});

test('parseKillRange and percentile', () => {
  assert.deepEqual(parseKillRange('1..2'), { min: 1, max: 2 });
  assert.deepEqual(parseKillRange('3'), { min: 3, max: 3 });
  assert.throws(() => parseKillRange('2..1'));
  assert.throws(() => parseKillRange('0..1'));
  assert.equal(percentile([5, 1, 3, 2, 4], 50), 3);
  assert.equal(percentile([5, 1, 3, 2, 4], 99), 5);
  assert.ok(Number.isNaN(percentile([], 50)));
});
