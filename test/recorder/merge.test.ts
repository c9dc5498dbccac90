import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EV } from '../../src/recorder/events/index.js';
import { replay } from '../../src/recorder/fplay.js';
import { readRing } from '../../src/recorder/reader.js';
import { Recorder } from '../../src/recorder/recorder.js';

test("several rings merge by time; ties keep each ring's own order", () => {
  const recs = [1, 2, 3].map((id) => new Recorder({ slots: 64, nodeId: id, virtualClock: true }));
  // Node k records at times k, k+3, k+6...; node 3 also records twice at one instant.
  for (let step = 0; step < 4; step++) {
    recs.forEach((r, i) => {
      r.setTime(i + 1 + step * 3);
      r.rec(EV.REC_MARK, 0, i + 1, step);
    });
  }
  recs[2]!.rec(EV.REC_MARK, 0, 3, 100);
  const lines = replay(
    recs.map((r) => readRing(r.snapshot(), `n${r.nodeId}`)),
    { layers: ['rec'] },
  ).filter((l) => l.event === 'rec.mark');
  const order = lines.map((l) => `${l.node}@${l.t.toFixed(3)}`);
  // The replay's origin is the rings' open record at virtual time 0.
  assert.deepEqual(order.slice(0, 6), ['1@0.001', '2@0.002', '3@0.003', '1@0.004', '2@0.005', '3@0.006']);
  const last = lines.slice(-2).map((l) => l.text.replace(/rec=\[\d+\] /, ''));
  assert.deepEqual(last, [
    'node=3 t=0.012000 rec.mark what="" a=3 b=3 c=0',
    'node=3 t=0.012000 rec.mark what="" a=3 b=100 c=0',
  ]);
});

test('real-clock rings from different processes line up through their anchors', () => {
  const a = new Recorder({ slots: 64, nodeId: 1, anchor: { driverMs: 1000, monoNs: 5e9, wallMs: 0 } });
  const b = new Recorder({ slots: 64, nodeId: 2, anchor: { driverMs: 20, monoNs: 5.5e9, wallMs: 0 } });
  a.setTime(1600); // 5.6 s on the host clock
  a.rec(EV.REC_MARK, 0, 1);
  b.setTime(70); // 5.55 s on the host clock
  b.rec(EV.REC_MARK, 0, 2);
  const lines = replay([readRing(a.snapshot()), readRing(b.snapshot())]).filter(
    (l) => l.event === 'rec.mark',
  );
  assert.deepEqual(
    lines.map((l) => l.node),
    [2, 1],
  );
  assert.ok(Math.abs(lines[1]!.t - lines[0]!.t - 0.05) < 1e-9);
});

test('filters: node, layer, grep, time window and last N', () => {
  const recs = [1, 2].map((id) => new Recorder({ slots: 64, nodeId: id, virtualClock: true }));
  recs.forEach((r) => {
    for (let i = 0; i < 10; i++) {
      r.setTime(i * 100);
      r.rec(i % 2 ? EV.SRP_DELIVER : EV.PG_DELIVER, 1, i, 3, 4);
    }
  });
  const imgs = recs.map((r) => readRing(r.snapshot()));
  assert.ok(replay(imgs, { nodes: [2] }).every((l) => l.node === 2));
  assert.ok(replay(imgs, { layers: ['pg'] }).every((l) => l.event === 'pg.deliver'));
  assert.equal(replay(imgs, { grep: /srp\.deliver .*seq=3/ }).length, 10);
  const windowed = replay(imgs, { since: 0.2, until: 0.4 });
  assert.ok(windowed.length > 0 && windowed.every((l) => l.t >= 0.2 && l.t <= 0.4));
  const last = replay(imgs, { last: 3 });
  assert.equal(last.length, 3);
  assert.equal(last[2]!.t, 0.9);
});
