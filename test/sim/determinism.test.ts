import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EventQueue } from '../../src/sim/event-queue.js';
import { parseFaults } from '../../src/sim/faults.js';
import { Prng } from '../../src/sim/prng.js';
import { runSimulation } from '../../src/sim/run.js';
import { toySequencerFactory } from './toy-sequencer.js';

test('the same seed gives the same trace hash and the same recorder bytes; another seed does not', () => {
  const run = (seed: number) =>
    runSimulation({
      seed,
      nodes: 4,
      core: toySequencerFactory([1, 2, 3, 4]),
      durationMs: 1500,
      faults: parseFaults('loss=0.05,dup=0.02,reorder,mdelay,pause'),
      recorderSlots: 1024,
    });
  const a = run(42);
  const b = run(42);
  const c = run(43);
  assert.equal(a.pass, true, JSON.stringify(a.violation));
  assert.equal(a.traceHash, b.traceHash);
  assert.equal(a.events, b.events);
  for (const [id, rec] of a.world.recorders)
    assert.deepEqual(rec.snapshot(), b.world.recorders.get(id)!.snapshot(), `node ${id} ring differs`);
  assert.notEqual(a.traceHash, c.traceHash);
});

test('the prng is a pure function of its seed and spreads its values', () => {
  const a = new Prng(7);
  const b = new Prng(7);
  const xs = Array.from({ length: 1000 }, () => a.float());
  assert.deepEqual(
    xs,
    Array.from({ length: 1000 }, () => b.float()),
  );
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  assert.ok(Math.abs(mean - 0.5) < 0.05);
  assert.ok(xs.every((x) => x >= 0 && x < 1));
  assert.notDeepEqual(
    Array.from({ length: 10 }, () => new Prng(8).u32()),
    Array.from({ length: 10 }, () => new Prng(7).u32()),
  );
});

test('the event queue pops by time, then by insertion order', () => {
  const q = new EventQueue<number>();
  const p = new Prng(1);
  const items: [number, number][] = [];
  for (let i = 0; i < 2000; i++) {
    const t = p.int(50);
    q.push(t, i);
    items.push([t, i]);
  }
  items.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  const out: [number, number][] = [];
  for (let e = q.pop(); e; e = q.pop()) out.push([e.time, e.event]);
  assert.deepEqual(out, items);
});
