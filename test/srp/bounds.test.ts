/**
 * The bounds srp keeps on what a peer may make it adopt: proc ∪ failed stays within
 * MEMBERS_MAX (else no join could carry it) and no ring seq beyond RING_SEQ_MAX is adopted or
 * created (else the next ring id would pass 2^53 - 1). Both are refused as drops, never thrown.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { Host, NodeId } from '../../src/core/io.js';
import { EV } from '../../src/recorder/events/index.js';
import { totemCodec } from '../../src/srp/codec.js';
import { MEMBERS_MAX, MessageType, type SrpMessage } from '../../src/srp/messages.js';
import { setOf } from '../../src/srp/node-set.js';
import { RING_SEQ_MAX } from '../../src/srp/ring-id.js';
import { RangeViolation, SrpNode } from '../../src/srp/srp-node.js';
import { DropReason } from '../../src/srp/stats.js';
import { SrpTimer } from '../../src/srp/timers.js';
import { CapturingRecorder, World } from './harness.js';

class FakeHost implements Host {
  readonly sent: { to: NodeId; msg: SrpMessage }[] = [];
  readonly timers = new Set<number>();
  readonly persisted: number[] = [];
  send(to: NodeId, packet: Uint8Array): void {
    this.sent.push({ to, msg: totemCodec.decode(packet) });
  }
  setTimer(timer: number): void {
    this.timers.add(timer);
  }
  cancelTimer(timer: number): void {
    this.timers.delete(timer);
  }
  persistRingSeq(seq: number): void {
    this.persisted.push(seq);
  }
  joins() {
    return this.sent.flatMap((s) => (s.msg.type === MessageType.Join ? [s.msg] : []));
  }
  lastJoin() {
    const joins = this.joins();
    assert.ok(joins.length > 0, 'a join was sent');
    return joins[joins.length - 1]!;
  }
}

/** Node 1, alone and OPERATIONAL in ring 1.5. */
function loneNode() {
  const host = new FakeHost();
  const recorder = new CapturingRecorder({ slots: 1024, virtualClock: true, nodeId: 1, pid: 1 });
  const node = new SrpNode({
    nodeId: 1,
    host,
    recorder,
    listener: { deliver() {}, configurationChange() {}, tokenVisit() {} },
  });
  node.start(0);
  for (let i = 0; i < 20 && host.timers.has(SrpTimer.SelfToken); i++) {
    host.timers.delete(SrpTimer.SelfToken);
    node.timerExpired(0, SrpTimer.SelfToken);
  }
  assert.equal(node.state, 'OPERATIONAL');
  return { node, host, recorder };
}

const join = (sender: NodeId, ringSeq: number, procList: NodeId[], failedList: NodeId[] = []) =>
  totemCodec.encode({ type: MessageType.Join, sender, leave: false, ringSeq, procList, failedList });

const ids = (from: number, count: number): NodeId[] => Array.from({ length: count }, (_, i) => from + i);

function drops(recorder: CapturingRecorder, reason: DropReason) {
  return recorder.records.filter((r) => r.ev === EV.SRP_DROP && r.args[0] === reason);
}

test('a join that fills proc to exactly MEMBERS_MAX is adopted; one more id is refused as too-many-members', () => {
  const { node, host, recorder } = loneNode();
  // Node 1 plus 383 others: exactly MEMBERS_MAX.
  node.receive(1, 2, join(2, 1, [2, ...ids(1000, MEMBERS_MAX - 2)]));
  assert.equal(node.state, 'GATHER');
  assert.equal(host.lastJoin().procList.length, MEMBERS_MAX);
  const joinsBefore = host.joins().length;

  node.receive(2, 3, join(3, 1, [3]));
  assert.equal(node.stats.packetsDropped['too-many-members'], 1);
  const recorded = drops(recorder, DropReason.TooManyMembers);
  assert.equal(recorded.length, 1);
  assert.deepEqual(recorded[0]!.args.slice(1, 3), [3, MessageType.Join]);
  assert.equal(host.joins().length, joinsBefore, 'a refused join changes nothing, so no join is re-sent');
  node.timerExpired(3, SrpTimer.Join);
  assert.equal(host.lastJoin().procList.length, MEMBERS_MAX);
  assert.ok(!host.lastJoin().procList.includes(3));
});

test('failed ids count against the bound too, and a join repeating known ids is still taken', () => {
  const { node, host } = loneNode();
  node.receive(1, 2, join(2, 1, [2, ...ids(1000, 200)]));
  node.receive(2, 3, join(3, 1, [3], ids(5000, 200)));
  assert.equal(node.stats.packetsDropped['too-many-members'], 1);
  // Nothing new: within the bound, so it counts as node 2's agreement instead of a drop.
  node.receive(3, 2, join(2, 1, [1, 2, ...ids(1000, 200)]));
  assert.equal(node.stats.packetsDropped['too-many-members'], 1);
  assert.equal(host.lastJoin().procList.length, 202);
});

test('merge-detects add senders to proc only up to MEMBERS_MAX; the rest are refused', () => {
  const { node, host, recorder } = loneNode();
  for (let i = 0; i < MEMBERS_MAX + 20; i++) {
    const sender = 1000 + i;
    node.receive(
      i,
      sender,
      totemCodec.encode({ type: MessageType.MergeDetect, sender, ringId: { rep: sender, seq: 4 } }),
    );
  }
  assert.equal(node.stats.packetsDropped['too-many-members'], 21);
  assert.equal(drops(recorder, DropReason.TooManyMembers)[0]!.args[2], MessageType.MergeDetect);
  assert.equal(host.lastJoin().procList.length, MEMBERS_MAX);
  node.timerExpired(0, SrpTimer.Join);
  node.timerExpired(0, SrpTimer.Consensus);
  assert.equal(host.lastJoin().failedList.length, MEMBERS_MAX - 1, 'the silent senders are failed, in bound');
});

test('foreign-ring mcasts add their senders only up to MEMBERS_MAX', () => {
  const { node, host } = loneNode();
  for (let i = 0; i < MEMBERS_MAX + 5; i++) {
    const sender = 1000 + i;
    const packet = totemCodec.encode({
      type: MessageType.Mcast,
      sender,
      origin: sender,
      seq: 1,
      ringId: { rep: sender, seq: 4 },
      guarantee: 1,
      encapsulated: null,
      payload: new Uint8Array(1),
    });
    node.receive(i, sender, packet);
  }
  assert.equal(node.stats.packetsDropped['too-many-members'], 6);
  assert.equal(host.lastJoin().procList.length, MEMBERS_MAX);
});

test('joins and commit tokens with a ring seq above RING_SEQ_MAX are refused as ring-seq-exhausted', () => {
  const { node, host, recorder } = loneNode();
  const ringBefore = node.ringId;
  node.receive(1, 2, join(2, RING_SEQ_MAX + 1, [1, 2]));
  node.receive(2, 2, join(2, Number.MAX_SAFE_INTEGER, [1, 2]));
  assert.equal(node.stats.packetsDropped['ring-seq-exhausted'], 2);
  assert.equal(node.state, 'OPERATIONAL');
  assert.deepEqual(node.ringId, ringBefore);
  const recorded = drops(recorder, DropReason.RingSeqExhausted);
  assert.equal(recorded[0]!.args[3], Math.floor((RING_SEQ_MAX + 1) / 2 ** 32), 'detail: the high bits');

  // In GATHER with node 2, a commit token naming an exhausted ring is refused too.
  node.receive(3, 2, join(2, 1, [1, 2]));
  assert.equal(node.state, 'GATHER');
  const ct = totemCodec.encode({
    type: MessageType.CommitToken,
    sender: 2,
    tokenSeq: 0,
    ringId: { rep: 2, seq: RING_SEQ_MAX + 2 },
    retransFlg: false,
    membIndex: 1,
    members: [1, 2],
    entries: [
      { ringId: { rep: 0, seq: 0 }, aru: 0, highDelivered: 0, receivedFlg: false },
      { ringId: { rep: 2, seq: 1 }, aru: 0, highDelivered: 0, receivedFlg: true },
    ],
  });
  node.receive(4, 2, ct);
  assert.equal(node.stats.packetsDropped['ring-seq-exhausted'], 3);
  assert.equal(node.state, 'GATHER');
  assert.ok(host.persisted.every((s) => s <= RING_SEQ_MAX));
});

test('a ring is formed at RING_SEQ_MAX at most; beyond it the node stays in GATHER and records why', () => {
  const { node, host, recorder } = loneNode();
  // Node 2 is in ring RING_SEQ_MAX - 4: node 1, the representative, forms RING_SEQ_MAX.
  node.receive(1, 2, join(2, RING_SEQ_MAX - 4, [1, 2]));
  node.receive(2, 2, join(2, RING_SEQ_MAX - 4, [1, 2]));
  assert.equal(node.state, 'COMMIT');
  assert.equal(node.ringId.seq, RING_SEQ_MAX);
  assert.equal(host.persisted.at(-1), RING_SEQ_MAX);

  // That ring fails; the next one would pass RING_SEQ_MAX, so none is created.
  node.timerExpired(3, SrpTimer.TokenLoss);
  assert.equal(node.state, 'GATHER');
  const violations = node.stats.rangeViolations;
  const sentBefore = host.sent.length;
  node.receive(4, 2, join(2, RING_SEQ_MAX, [1, 2]));
  node.receive(5, 2, join(2, RING_SEQ_MAX, [1, 2]));
  assert.equal(node.state, 'GATHER');
  assert.ok(node.stats.rangeViolations > violations);
  const rv = recorder.records.filter(
    (r) => r.ev === EV.SRP_RANGE_VIOLATION && r.args[0] === RangeViolation.RingSeqExhausted,
  );
  assert.ok(rv.length > 0);
  assert.ok(!host.sent.slice(sentBefore).some((s) => s.msg.type === MessageType.CommitToken));
  assert.ok(Number.isSafeInteger(node.ringId.seq) && host.persisted.every((s) => s <= RING_SEQ_MAX));
});

test('a node whose stored ring seq is beyond RING_SEQ_MAX is refused at construction', () => {
  const make = (persistedRingSeq: number) =>
    new SrpNode({
      nodeId: 1,
      host: new FakeHost(),
      recorder: new CapturingRecorder({ slots: 64, virtualClock: true, nodeId: 1, pid: 1 }),
      listener: { deliver() {}, configurationChange() {}, tokenVisit() {} },
      persistedRingSeq,
    });
  assert.doesNotThrow(() => make(RING_SEQ_MAX));
  assert.throws(() => make(RING_SEQ_MAX + 1), /RING_SEQ_MAX/);
});

test('a legitimate cluster with high ring seqs forms rings and delivers as usual', () => {
  const w = new World({ seed: 77, nodes: [1, 2, 3] });
  for (const id of w.nodes) w.persisted.set(id, RING_SEQ_MAX - 1000 - id);
  for (const id of w.nodes) w.startNode(id);
  w.runUntilStable(10_000);
  for (let i = 0; i < 5; i++) for (const inc of w.live()) w.mcast(inc.node, 1);
  w.runFor(2000);
  w.crash(3);
  w.runUntilStable(10_000, [1, 2]);
  for (const inc of w.live()) {
    assert.equal(inc.srp.state, 'OPERATIONAL');
    assert.deepEqual([...inc.srp.members], [1, 2]);
    assert.ok(inc.srp.ringId.seq > RING_SEQ_MAX - 1000 && inc.srp.ringId.seq <= RING_SEQ_MAX);
    assert.equal(inc.srp.stats.packetsDropped['ring-seq-exhausted'], 0);
    assert.equal(inc.log.filter((e) => e.kind === 'msg').length >= 15, true);
  }
});

test('property: any joins and merge-detects leave proc ∪ failed and ring ids in bounds, never throwing', () => {
  const idArb = fc.integer({ min: 2, max: 3000 });
  const seqArb = fc.oneof(
    fc.integer({ min: 0, max: 100 }),
    fc.integer({ min: RING_SEQ_MAX - 20, max: Number.MAX_SAFE_INTEGER }),
  );
  const input = fc.oneof(
    fc.record({
      kind: fc.constant('join' as const),
      sender: idArb,
      seq: seqArb,
      proc: fc.uniqueArray(idArb, { maxLength: MEMBERS_MAX - 1, size: 'max' }),
      failed: fc.uniqueArray(idArb, { maxLength: 40 }),
    }),
    fc.record({ kind: fc.constant('merge' as const), sender: idArb }),
    fc.record({ kind: fc.constant('timer' as const), timer: fc.constantFrom(...Object.values(SrpTimer)) }),
  );
  fc.assert(
    fc.property(fc.array(input, { maxLength: 30 }), (inputs) => {
      const { node, host } = loneNode();
      let t = 1;
      for (const x of inputs) {
        t++;
        if (x.kind === 'join') {
          node.receive(t, x.sender, join(x.sender, x.seq, setOf([x.sender, ...x.proc]), setOf(x.failed)));
        } else if (x.kind === 'merge') {
          const m = {
            type: MessageType.MergeDetect,
            sender: x.sender,
            ringId: { rep: x.sender, seq: 8 },
          } as const;
          node.receive(t, x.sender, totemCodec.encode(m));
        } else if (host.timers.has(x.timer)) {
          host.timers.delete(x.timer);
          node.timerExpired(t, x.timer);
        }
      }
      for (const j of host.joins()) {
        assert.ok(new Set([...j.procList, ...j.failedList]).size <= MEMBERS_MAX);
        assert.ok(j.ringSeq <= RING_SEQ_MAX);
      }
      assert.ok(node.ringId.seq <= RING_SEQ_MAX);
      assert.ok(host.persisted.every((s) => s <= RING_SEQ_MAX));
      assert.equal(node.stats.decodeErrors, 0, 'every generated packet reached the protocol');
    }),
    // Counterexamples here are large; shrinking them takes minutes, the first one says enough.
    { numRuns: 60, endOnFailure: true },
  );
});
