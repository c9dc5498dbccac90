import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ENUMS } from '../../src/recorder/events/enums.js';
import { GUARD_REASONS, MembershipGuard, RING_SEQ_HORIZON } from '../../src/runtime/membership-guard.js';
import { totemCodec } from '../../src/srp/codec.js';
import { MessageType, type SrpMessage } from '../../src/srp/messages.js';

const enc = (m: SrpMessage): Uint8Array => totemCodec.encode(m);
const join = (procList: number[], ringSeq = 8, failedList: number[] = []): Uint8Array =>
  enc({ type: MessageType.Join, sender: 2, leave: false, ringSeq, procList, failedList });
const commit = (members: number[], seq: number, entrySeq = 4): Uint8Array =>
  enc({
    type: MessageType.CommitToken,
    sender: 1,
    tokenSeq: 0,
    ringId: { rep: members[0]!, seq },
    retransFlg: false,
    membIndex: 0,
    members,
    entries: members.map(() => ({
      ringId: { rep: 1, seq: entrySeq },
      aru: 0,
      highDelivered: 0,
      receivedFlg: true,
    })),
  });

test('the guard reasons are the recorder enum runtimeGuard', () => {
  assert.deepEqual([...GUARD_REASONS], ENUMS.runtimeGuard);
});

test('joins and commit tokens naming unconfigured nodes are refused; configured ones pass', () => {
  const g = new MembershipGuard([1, 2, 3], 0);
  assert.equal(g.check(join([1, 2, 3]), 4), undefined);
  assert.equal(g.check(join([1, 2, 99]), 4), 'unknown-member');
  assert.equal(g.check(join([1, 2], 8, [77]), 4), 'unknown-member');
  assert.equal(g.check(commit([1, 2], 12), 4), undefined);
  assert.equal(g.check(commit([1, 2, 1000], 12), 4), 'unknown-member');
  assert.deepEqual(g.dropped, { 'unknown-member': 3, 'ring-seq-too-high': 0, 'unknown-sender': 0 });
});

test('a ring seq beyond the horizon of what this node knows is refused; steps within it move the horizon', () => {
  const g = new MembershipGuard([1, 2, 3], 100);
  assert.equal(g.check(join([1, 2], 100 + RING_SEQ_HORIZON + 1), 4), 'ring-seq-too-high');
  assert.equal(g.check(join([1, 2], Number.MAX_SAFE_INTEGER - 1), 4), 'ring-seq-too-high');
  assert.equal(g.check(commit([1, 2], 8, 2 ** 50), 4), 'ring-seq-too-high');
  assert.equal(g.check(join([1, 2], 100 + RING_SEQ_HORIZON), 4), undefined);
  assert.equal(g.check(join([1, 2], 100 + 2 * RING_SEQ_HORIZON), 4), undefined, 'the horizon moved');
  // The node's own ring counts as known too.
  const h = new MembershipGuard([1, 2], 0);
  assert.equal(h.check(join([1, 2], 3 * RING_SEQ_HORIZON), 2 * RING_SEQ_HORIZON + 8), undefined);
});

test('other messages and undecodable bytes pass untouched (srp counts them)', () => {
  const g = new MembershipGuard([1, 2], 0);
  const mcast = enc({
    type: MessageType.Mcast,
    sender: 2,
    origin: 1,
    seq: 1,
    ringId: { rep: 99, seq: 2 ** 52 },
    guarantee: 0,
    encapsulated: null,
    payload: new Uint8Array(3),
  });
  assert.equal(g.check(mcast, 0), undefined);
  const broken = join([1, 2]).slice(0, 14);
  assert.equal(g.check(broken, 0), undefined);
  assert.equal(g.check(new Uint8Array(0), 0), undefined);
  // Not srp's magic or version: srp's decoder is the one to count it, whatever sender it names.
  const foreign = enc({ type: MessageType.MergeDetect, sender: 4242, ringId: { rep: 1, seq: 4 } });
  foreign[0] = 0;
  assert.equal(g.check(foreign, 0), undefined);
  foreign[0] = 0x70;
  foreign[2] = 9;
  assert.equal(g.check(foreign, 0), undefined);
  assert.deepEqual(g.dropped, { 'unknown-member': 0, 'ring-seq-too-high': 0, 'unknown-sender': 0 });
});

test('any packet whose srp header names an unconfigured sender is refused', () => {
  const g = new MembershipGuard([1, 2], 0);
  const merge = (sender: number): Uint8Array =>
    enc({ type: MessageType.MergeDetect, sender, ringId: { rep: sender, seq: 4 } });
  assert.equal(g.check(merge(2), 0), undefined);
  assert.equal(g.check(merge(1234), 0), 'unknown-sender');
  assert.equal(g.check(merge(0xffffffff), 0), 'unknown-sender');
  assert.equal(g.dropped['unknown-sender'], 2);
});
