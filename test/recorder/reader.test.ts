import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EV } from '../../src/recorder/events/index.js';
import { SLOT_SIZE, SLOTS_OFFSET } from '../../src/recorder/format.js';
import { readRing } from '../../src/recorder/reader.js';
import { Recorder } from '../../src/recorder/recorder.js';
import { renderArgs } from '../../src/recorder/render.js';

function filled(slots: number, records: number): Recorder {
  const r = new Recorder({ slots, virtualClock: true, nodeId: 7 });
  for (let i = 0; i < records; i++) {
    r.setTime(i);
    r.rec(EV.SRP_DELIVER, 1, 2, i, 3);
  }
  return r;
}

function seqs(bytes: Uint8Array): number[] {
  return [...readRing(bytes).records.seq];
}

test('a fresh ring reads back every record in order, starting with the open record', () => {
  const img = readRing(filled(64, 10).snapshot());
  assert.equal(img.records.count, 11);
  assert.equal(img.records.event[0], EV.REC_OPEN);
  assert.deepEqual([...img.records.seq], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  assert.equal(img.tornSlots, 0);
  assert.deepEqual(img.problems, []);
  assert.equal(img.header?.nodeId, 7);
  assert.equal(img.header?.virtualClock, true);
});

test('a torn slot in the middle is skipped and everything after it is kept', () => {
  const r = filled(64, 40);
  const bytes = r.snapshot();
  const view = new DataView(bytes.buffer);
  // Seq 20 was being written when the process died: its commit word is still 0.
  view.setUint32(SLOTS_OFFSET + 20 * SLOT_SIZE, 0, true);
  // Seq 30's commit word is damaged: it does not belong in that slot.
  view.setUint32(SLOTS_OFFSET + 30 * SLOT_SIZE, 12345, true);
  const img = readRing(bytes);
  const got = [...img.records.seq];
  assert.equal(img.tornSlots, 2);
  assert.deepEqual(img.gaps, [
    [20, 20],
    [30, 30],
  ]);
  assert.equal(got.length, 39);
  assert.ok(!got.includes(20) && !got.includes(30));
  assert.equal(got.at(-1), 41);
  assert.match(img.problems.join(), /2 torn or damaged slot/);
});

test('wraparound keeps exactly the newest slotCount records in order', () => {
  const r = filled(64, 64 * 3 + 17);
  const got = seqs(r.snapshot());
  assert.equal(got.length, 64);
  const head = r.lastSeq;
  assert.deepEqual(
    got,
    Array.from({ length: 64 }, (_, i) => head - 63 + i),
  );
});

test('the u32 sequence counter wraps without losing order', () => {
  const r = new Recorder({ slots: 32, virtualClock: true });
  (r as unknown as { seq: number }).seq = 0xffffffff - 10;
  for (let i = 0; i < 40; i++) r.rec(EV.SRP_DELIVER, i, 0, 0, 0);
  const img = readRing(r.snapshot());
  const args = Array.from({ length: img.records.count }, (_, i) => img.records.args[i * 8]!);
  // The newest 31 records (seq 0 is never used, so one slot of the window stays empty).
  assert.deepEqual(
    args,
    Array.from({ length: args.length }, (_, i) => 40 - args.length + i),
  );
  assert.ok(args.length >= 31);
});

test('wide events carry eight arguments across two slots', () => {
  const r = new Recorder({ slots: 64, virtualClock: true });
  r.recWide(EV.REC_MARK, 1, 2, 3, 4, 5, 6, 7, 8);
  r.rec(EV.REC_MARK, 9);
  const img = readRing(r.snapshot());
  assert.equal(img.records.count, 3);
  assert.deepEqual([...img.records.args.subarray(8, 16)], [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.equal(img.records.args[16], 9);
});

test("strings, enums and kinds are rendered from the ring's own registry", () => {
  const r = new Recorder({ slots: 64, virtualClock: true });
  const id = r.intern('hello ring');
  r.rec(EV.REC_ASSERT, id, -1, 2, 3);
  r.rec(EV.SRP_STATE, 1, 2, 4, 99);
  r.rec(EV.SRP_DELIVER, 1, -1, 3, 4);
  const img = readRing(r.snapshot());
  const n = img.records.count;
  assert.equal(renderArgs(img, n - 3), 'message="hello ring" a=-1 b=2 c=3');
  assert.equal(renderArgs(img, n - 2), 'from=GATHER to=COMMIT reason=consensus-timeout ringSeq=99');
  assert.equal(renderArgs(img, n - 1), 'ringRep=1 ringSeq=4294967295 seq=3 sender=4');
});

test('bad files give a clear problem and no exception', () => {
  assert.match(readRing(new Uint8Array(10)).problems[0]!, /truncated: 10 bytes/);
  assert.match(readRing(new Uint8Array(5000)).problems[0]!, /bad magic/);
  const bytes = filled(64, 100).snapshot();
  const cut = readRing(bytes.subarray(0, SLOTS_OFFSET + 10 * SLOT_SIZE + 5));
  assert.match(cut.problems.join(), /truncated: 10 of 64 slots present/);
  assert.ok(cut.records.count > 0 && cut.records.count <= 10);
  bytes[40] ^= 0xff;
  assert.match(readRing(bytes).problems.join(), /header checksum mismatch/);
});
