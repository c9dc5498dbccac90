import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkRings } from '../../src/recorder/check.js';
import { EV } from '../../src/recorder/events/index.js';
import { readRing } from '../../src/recorder/reader.js';
import { Recorder } from '../../src/recorder/recorder.js';
import { images, recordCluster } from '../support/recording.js';

function kinds(report: ReturnType<typeof checkRings>): string[] {
  return report.findings.map((f) => f.kind);
}

test('a healthy recording is clean', () => {
  const report = checkRings(images(recordCluster()));
  assert.deepEqual(report.findings, []);
  assert.equal(report.counts.transmitted, 15);
  assert.equal(report.counts.delivered, 45);
  assert.equal(report.counts.pgDelivered, 45);
});

test('planted loss: a message one member never delivered', () => {
  const report = checkRings(images(recordCluster({ onDeliver: (node, seq) => !(node === 2 && seq === 7) })));
  assert.deepEqual(kinds(report), ['not-delivered', 'pg-lost']);
  assert.match(
    report.findings[0]!.message,
    /ring 1\.8 seq 7 from node 1 delivered on \{1,3\}, missing on \{2\}/,
  );
  assert.ok(report.findings[0]!.witnesses.some((w) => /node=1 rec=\[\d+\] srp\.mcast_tx/.test(w)));
});

test('loss is not reported for a member that left without the sender', () => {
  const report = checkRings(
    images(
      recordCluster({
        onDeliver: (node, seq) => !(node === 3 && (seq === 13 || seq === 14)),
        transitionalMembers: [3],
      }),
    ),
  );
  assert.deepEqual(
    kinds(report).filter((k) => k === 'not-delivered'),
    [],
  );
});

test('planted reorder: two deliveries swapped on one member', () => {
  const recs = recordCluster();
  // Node 3 delivers seq 5 again after seq 6: order differs from the others.
  const r = recs[2]!;
  r.rec(EV.SRP_DELIVER, 1, 8, 99, 3);
  r.rec(EV.SRP_DELIVER, 1, 8, 98, 2);
  const report = checkRings(images(recs));
  assert.ok(kinds(report).includes('order'), JSON.stringify(report.findings));
  assert.ok(report.findings.some((f) => /node 3 delivered ring 1\.8 seq 98 after seq 99/.test(f.message)));
});

test('planted duplicate: one message delivered twice', () => {
  const recs = recordCluster();
  recs[0]!.rec(EV.SRP_DELIVER, 1, 8, 4, 1);
  const report = checkRings(images(recs));
  assert.ok(
    report.findings.some(
      (f) => f.kind === 'duplicate' && /node 1 delivered ring 1\.8 seq 4 twice/.test(f.message),
    ),
  );
});

test('planted merge: the 2008 bug, one message swallowed into the one before it', () => {
  // On every node, message 2 of node 1 is delivered with message 3's bytes glued on, and 3 never comes.
  const report = checkRings(
    images(
      recordCluster({
        pgDeliver: (_node, sender, msgId, len) =>
          sender === 1 && msgId === 2 ? [[2, len + 40]] : sender === 1 && msgId === 3 ? [] : undefined,
      }),
    ),
  );
  const merged = report.findings.filter((f) => f.kind === 'pg-merged');
  const lost = report.findings.filter((f) => f.kind === 'pg-lost');
  assert.equal(merged.length, 3);
  assert.equal(lost.length, 3);
  assert.match(
    merged[0]!.message,
    /message 2 of node 1 was sent with \d+ bytes but delivered with \d+ on node 1/,
  );
  assert.match(lost[0]!.message, /delivered messages 2 and 4 of node 1 with nothing between/);
});

test('configuration changes at different places are found', () => {
  const recs = recordCluster({ closed: false });
  // Nodes 1 and 2 move to the same transitional configuration, but node 2 delivered one more message before it.
  recs[1]!.rec(EV.SRP_DELIVER, 1, 8, 16, 2);
  for (const r of recs.slice(0, 2)) {
    r.rec(EV.SRP_CONF, 0, 1, 12, 2);
    r.rec(EV.SRP_CONF_MEMBER, 1, 12, 1, 0);
    r.rec(EV.SRP_CONF_MEMBER, 1, 12, 2, 0);
  }
  const report = checkRings(images(recs));
  assert.ok(
    report.findings.some(
      (f) =>
        f.kind === 'conf-place' &&
        /nodes 1 and 2 left ring 1\.8 together but delivered different messages before/.test(f.message),
    ),
    JSON.stringify(report.findings),
  );
});

test('a restarted sender reuses message ids: a delivery whose frame fell out of a wrapped ring is not paired by time', () => {
  // Node 1's first incarnation sends message 19 (42 bytes) in ring 1.13; it crashes and its
  // successor sends its own message 19 (19 bytes) in ring 1.22. Node 6 delivers the first
  // one late (recovered), after the successor started; its ring then wraps past the
  // srp.deliver of that frame but keeps the pg.deliver (simulator seed 758 of the plock sweep).
  const first = new Recorder({ slots: 64, nodeId: 1, virtualClock: true, pid: 1001 });
  first.setTime(1);
  first.rec(EV.PG_SEND, 19, 42, 1, 0);
  first.rec(EV.SRP_MCAST_TX, 1, 13, 36, 54);
  const second = new Recorder({ slots: 64, nodeId: 1, virtualClock: true, pid: 1002 });
  second.setTime(10);
  second.rec(EV.PG_SEND, 19, 19, 1, 0);
  second.rec(EV.SRP_MCAST_TX, 1, 22, 12, 31);
  const late = new Recorder({ slots: 16, nodeId: 6, virtualClock: true, pid: 1006 });
  late.setTime(20);
  late.rec(EV.SRP_DELIVER, 1, 13, 36, 1);
  late.rec(EV.PG_DELIVER, 1, 19, 42, 0);
  // Wrap until the oldest record kept is the pg.deliver (the srp.deliver before it is gone).
  let lateImage = readRing(late.snapshot(), 'node 6#1');
  for (let i = 0; i < 32 && lateImage.records.event[0] !== EV.PG_DELIVER; i++) {
    late.rec(EV.SRP_TOKEN_RX, 1, 22, i, 0);
    lateImage = readRing(late.snapshot(), 'node 6#1');
  }
  assert.equal(lateImage.records.event[0], EV.PG_DELIVER);
  const ringImages = [
    readRing(first.snapshot(), 'node 1#1'),
    readRing(second.snapshot(), 'node 1#2'),
    lateImage,
  ];
  const report = checkRings(ringImages);
  assert.deepEqual(
    report.findings.filter((f) => f.kind.startsWith('pg-')),
    [],
  );
  // With the frame's ring recorded, the same delivery pairs with the first incarnation's send.
  const kept = new Recorder({ slots: 64, nodeId: 6, virtualClock: true, pid: 1006 });
  kept.setTime(20);
  kept.rec(EV.SRP_DELIVER, 1, 13, 36, 1);
  kept.rec(EV.PG_DELIVER, 1, 19, 43, 0);
  const paired = checkRings([ringImages[0]!, ringImages[1]!, readRing(kept.snapshot(), 'node 6#1')]);
  assert.ok(
    paired.findings.some(
      (f) => f.kind === 'pg-merged' && /sent with 42 bytes but delivered with 43/.test(f.message),
    ),
    JSON.stringify(paired.findings),
  );
});
