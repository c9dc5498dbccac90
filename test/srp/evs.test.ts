import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Guarantee, type RingId } from '../../src/core/io.js';
import { fillCommitEntry, planOldRingDelivery, transitionalView } from '../../src/srp/evs.js';
import { type CommitEntry, type McastMessage, MessageType } from '../../src/srp/messages.js';
import type { StoredMessage } from '../../src/srp/ring-state.js';

const oldRing: RingId = { rep: 1, seq: 8 };
const otherRing: RingId = { rep: 4, seq: 6 };
const empty: CommitEntry = { ringId: { rep: 0, seq: 0 }, aru: 0, highDelivered: 0, receivedFlg: false };

function entry(ringId: RingId, aru: number, receivedFlg: boolean, highDelivered = aru): CommitEntry {
  return { ringId, aru, highDelivered, receivedFlg };
}

test('received_flg: my flag and earlier peers of my old ring are cleared below the highest aru', () => {
  // Node at index 0 held aru 100; I (index 2) hold aru = high = 90, locally "complete".
  let entries = [empty, empty, empty, empty];
  entries = fillCommitEntry(entries, 0, entry(oldRing, 100, true));
  entries = fillCommitEntry(entries, 1, entry(otherRing, 5, true));
  entries = fillCommitEntry(entries, 2, entry(oldRing, 90, true));
  assert.equal(entries[2]!.receivedFlg, false, 'mine is cleared: a peer holds more');
  assert.equal(entries[0]!.receivedFlg, true);
  assert.equal(entries[1]!.receivedFlg, true, 'another ring is not compared');
  // A later, higher member clears the earlier ones.
  entries = fillCommitEntry(entries, 3, entry(oldRing, 120, true));
  assert.deepEqual(
    entries.map((e) => e.receivedFlg),
    [false, true, false, true],
  );
});

test('received_flg comparison is rollover safe', () => {
  let entries = [empty, empty];
  entries = fillCommitEntry(entries, 0, entry(oldRing, 3, true));
  entries = fillCommitEntry(entries, 1, entry(oldRing, 0xfffffffe, true));
  assert.equal(entries[1]!.receivedFlg, false, '0xfffffffe is before 3 after a wrap');
  assert.equal(entries[0]!.receivedFlg, true);
});

test('transitional view: members from my old ring, lowest aru, highest delivered, need for recovery', () => {
  const view = transitionalView(
    [1, 2, 5, 7],
    [
      entry(oldRing, 50, false, 40),
      entry(oldRing, 60, true, 55),
      entry(otherRing, 3, true),
      entry(oldRing, 60, true),
    ],
    oldRing,
    [1, 2, 3, 7],
  );
  assert.deepEqual(view.members, [1, 2, 7]);
  assert.equal(view.lowRingAru, 50);
  assert.equal(view.highRingDelivered, 60);
  assert.equal(view.needsRecovery, true);
  const clean = transitionalView(
    [1, 2],
    [entry(oldRing, 60, true), entry(oldRing, 60, true)],
    oldRing,
    [1, 2],
  );
  assert.equal(clean.needsRecovery, false);
});

function queueOf(msgs: [seq: number, origin: number, guarantee?: Guarantee][]): Map<number, StoredMessage> {
  const q = new Map<number, StoredMessage>();
  for (const [seq, origin, guarantee] of msgs) {
    const msg: McastMessage = {
      type: MessageType.Mcast,
      sender: origin,
      origin,
      seq,
      ringId: oldRing,
      guarantee: guarantee ?? Guarantee.Agreed,
      encapsulated: null,
      payload: new Uint8Array(0),
    };
    q.set(seq, { msg, bytes: null });
  }
  return q;
}

const seqs = (ms: McastMessage[]) => ms.map((m) => m.seq);

test('old-ring delivery: contiguous first, then past holes only from transitional members', () => {
  // Delivered up to 10; 11..13 held; 14 missing; 15 from a member, 16 from a node that left.
  const q = queueOf([
    [11, 1],
    [12, 3],
    [13, 2],
    [15, 2],
    [16, 3],
    [17, 1],
  ]);
  const plan = planOldRingDelivery(q, 10, 17, 10, [1, 2]);
  assert.deepEqual(seqs(plan.beforeTransitional), [11, 12, 13]);
  assert.deepEqual(seqs(plan.inTransitional), [15, 17]);
  assert.deepEqual(seqs(plan.skipped), [16]);
});

test('old-ring delivery: a safe message nobody delivered waits for the transitional configuration', () => {
  const q = queueOf([
    [21, 1],
    [22, 3, Guarantee.Safe],
    [23, 3],
    [25, 3],
  ]);
  // Some transitional member delivered up to 21 only: 22 lacks its guarantee.
  const plan = planOldRingDelivery(q, 20, 25, 21, [1, 2]);
  assert.deepEqual(seqs(plan.beforeTransitional), [21]);
  assert.deepEqual(seqs(plan.inTransitional), [22, 23], 'contiguous after the cut, whoever sent it');
  assert.deepEqual(seqs(plan.skipped), [25]);
  // If a member had delivered 22 already, everyone delivers it in the regular configuration.
  const plan2 = planOldRingDelivery(q, 20, 25, 22, [1, 2]);
  assert.deepEqual(seqs(plan2.beforeTransitional), [21, 22, 23]);
});

test('old-ring delivery across the u32 wrap', () => {
  const q = queueOf([
    [0xffffffff, 1],
    [0, 2],
    [2, 1],
  ]);
  const plan = planOldRingDelivery(q, 0xfffffffe, 2, 0xfffffffe, [1]);
  assert.deepEqual(seqs(plan.beforeTransitional), [0xffffffff, 0]);
  assert.deepEqual(seqs(plan.inTransitional), [2]);
});
