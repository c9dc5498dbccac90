import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Configuration, Guarantee, type Host, type NodeId } from '../../src/core/io.js';
import { EV } from '../../src/recorder/events/index.js';
import { totemCodec } from '../../src/srp/codec.js';
import { type JoinMessage, MessageType, type SrpMessage, type TokenMessage } from '../../src/srp/messages.js';
import { SrpNode } from '../../src/srp/srp-node.js';
import { SrpTimer } from '../../src/srp/timers.js';
import { CapturingRecorder, World } from './harness.js';

/** A host that records effects; the test fires timers by hand. */
class FakeHost implements Host {
  readonly sent: { to: NodeId; msg: SrpMessage }[] = [];
  readonly timers = new Map<number, number>();
  readonly timerCalls: string[] = [];
  readonly persisted: number[] = [];
  send(to: NodeId, packet: Uint8Array): void {
    this.sent.push({ to, msg: totemCodec.decode(packet) });
  }
  setTimer(timer: number, delayMs: number): void {
    this.timers.set(timer, delayMs);
    this.timerCalls.push(`set ${timer}`);
  }
  cancelTimer(timer: number): void {
    this.timers.delete(timer);
    this.timerCalls.push(`cancel ${timer}`);
  }
  persistRingSeq(seq: number): void {
    this.persisted.push(seq);
  }
  ofType<T extends SrpMessage['type']>(type: T): Extract<SrpMessage, { type: T }>[] {
    return this.sent.filter((s) => s.msg.type === type).map((s) => s.msg as Extract<SrpMessage, { type: T }>);
  }
}

function makeNode(nodeId = 1, persistedRingSeq = 0) {
  const host = new FakeHost();
  const confs: Configuration[] = [];
  const delivered: string[] = [];
  const recorder = new CapturingRecorder({ slots: 1024, virtualClock: true, nodeId, pid: 1 });
  const node = new SrpNode({
    nodeId,
    host,
    recorder,
    persistedRingSeq,
    listener: {
      deliver: (_s, payload) => delivered.push(new TextDecoder().decode(payload)),
      configurationChange: (c) => confs.push(c),
      tokenVisit: () => {},
    },
  });
  return { node, host, confs, delivered, recorder };
}

/** Fires the self-token timer until the lone node settles. */
function pumpSelf(node: SrpNode, host: FakeHost, max = 200): void {
  for (let i = 0; i < max && host.timers.has(SrpTimer.SelfToken); i++) {
    host.timers.delete(SrpTimer.SelfToken);
    node.timerExpired(0, SrpTimer.SelfToken);
  }
}

function join(sender: NodeId, proc: NodeId[], failed: NodeId[], ringSeq: number, leave = false): Uint8Array {
  const j: JoinMessage = {
    type: MessageType.Join,
    sender,
    leave,
    ringSeq,
    procList: proc,
    failedList: failed,
  };
  return totemCodec.encode(j);
}

test('start: GATHER, a join, join and consensus timers; a lone node forms ring x.5 (1.5 from empty state)', () => {
  const { node, host, confs } = makeNode(1, 0);
  node.start(0);
  assert.equal(host.ofType(MessageType.Join).length, 1);
  assert.deepEqual(host.ofType(MessageType.Join)[0]!.procList, [1]);
  // Alone, its own join is the consensus: it commits at once (corosync forms ring 1.5 the same way).
  assert.equal(node.state, 'COMMIT');
  assert.deepEqual(host.persisted, [5]);
  pumpSelf(node, host);
  assert.equal(node.state, 'OPERATIONAL');
  assert.deepEqual(node.ringId, { rep: 1, seq: 5 });
  assert.deepEqual(
    confs.map((c) => [c.kind, [...c.members]]),
    [
      ['transitional', [1]],
      ['regular', [1]],
    ],
  );
  assert.deepEqual(node.members, [1]);
});

test('a lone node delivers its own messages in order, agreed and safe', () => {
  const { node, host, delivered } = makeNode(4, 20);
  node.start(0);
  pumpSelf(node, host);
  for (let i = 0; i < 40; i++)
    assert.ok(node.mcast(new TextEncoder().encode(`m${i}`), i % 2 ? Guarantee.Safe : Guarantee.Agreed));
  pumpSelf(node, host);
  assert.deepEqual(
    delivered,
    Array.from({ length: 40 }, (_, i) => `m${i}`),
  );
  assert.equal(node.stats.messagesOriginated, 40);
});

test('mcast reports a full queue and refuses oversized payloads', () => {
  const host = new FakeHost();
  const node = new SrpNode({
    nodeId: 1,
    host,
    config: { sendQueueSize: 3 },
    recorder: new CapturingRecorder({ slots: 1024, virtualClock: true, pid: 1 }),
    listener: { deliver: () => {}, configurationChange: () => {}, tokenVisit: () => {} },
  });
  node.start(0);
  assert.equal(node.sendQueueRoom(), 3);
  for (let i = 0; i < 3; i++) assert.ok(node.mcast(new Uint8Array(10), Guarantee.Agreed));
  assert.equal(node.mcast(new Uint8Array(10), Guarantee.Agreed), false);
  assert.equal(node.sendQueueRoom(), 0);
  assert.throws(() => node.mcast(new Uint8Array(node.maxPayload + 1), Guarantee.Agreed), RangeError);
});

test('OPERATIONAL: a join from an unknown node starts GATHER; stale and hostile joins are ignored', () => {
  const { node, host } = makeNode(1);
  node.start(0);
  pumpSelf(node, host);
  assert.equal(node.state, 'OPERATIONAL');
  const ringSeq = node.ringId.seq;
  node.receive(0, 9, join(9, [1, 9], [1], ringSeq + 10));
  assert.equal(node.state, 'OPERATIONAL', 'a join listing me as failed is ignored');
  node.receive(0, 9, join(9, [9], [], 2));
  assert.equal(node.state, 'GATHER');
  const last = host.ofType(MessageType.Join).at(-1)!;
  assert.deepEqual(last.procList, [1, 9]);
  assert.deepEqual(last.failedList, []);
});

test('GATHER: consensus timeout moves silent nodes to the failed set and the rest commit', () => {
  const { node, host } = makeNode(2);
  node.start(0);
  pumpSelf(node, host);
  node.receive(0, 7, join(7, [7], [], 1));
  assert.equal(node.state, 'GATHER');
  assert.ok(host.timers.has(SrpTimer.Consensus));
  // Node 7 spoke in this round and only lags behind (it does not know me yet): kept.
  node.timerExpired(800, SrpTimer.Consensus);
  assert.deepEqual(host.ofType(MessageType.Join).at(-1)!.failedList, []);
  // Silent for a whole round: failed.
  node.timerExpired(1600, SrpTimer.Consensus);
  assert.equal(node.stats.consensusTimeouts, 2);
  const last = host.ofType(MessageType.Join).at(-1)!;
  assert.deepEqual(last.failedList, [7]);
  assert.equal(node.state, 'COMMIT');
  pumpSelf(node, host);
  assert.equal(node.state, 'OPERATIONAL');
  assert.deepEqual(node.members, [2]);
});

test('GATHER: a consensus timeout keeps a live member that only lags behind for one round', () => {
  // Sweep seeds 26 and 1990 (srp) and 432 (plock): nodes of different old rings cannot adopt
  // each other's failed sets, so each fails a dead node only at its own consensus timeout;
  // failing every member that had not agreed split the live ones into singleton rings whenever
  // their timers ran out of phase, for as long as the run lasted.
  const lastFailed = (host: FakeHost) => host.ofType(MessageType.Join).at(-1)!.failedList;
  const gathering = () => {
    const n = makeNode(1);
    n.node.start(0);
    pumpSelf(n.node, n.host);
    return n;
  };

  // Node 2 (another ring) already failed the dead node 3; I have not, and do not adopt it.
  const a = gathering();
  const seq = a.node.ringId.seq;
  a.node.receive(0, 2, join(2, [1, 2, 3], [3], seq));
  assert.equal(a.node.state, 'GATHER');
  assert.deepEqual(lastFailed(a.host), [], "a foreign ring's failed set is not adopted");
  a.node.timerExpired(800, SrpTimer.Consensus);
  assert.deepEqual(lastFailed(a.host), [3], 'the unheard member fails; node 2 agrees once 3 is failed');
  a.node.receive(810, 2, join(2, [1, 2, 3], [3], seq));
  assert.equal(a.node.state, 'COMMIT');
  assert.deepEqual(a.host.ofType(MessageType.CommitToken).at(-1)!.members, [1, 2]);

  // I failed 3 already; node 2 lags (it has not yet): it is kept for one round...
  const b = gathering();
  b.node.receive(0, 2, join(2, [1, 2, 3], [], seq));
  b.node.timerExpired(800, SrpTimer.Consensus);
  assert.deepEqual(lastFailed(b.host), [3]);
  b.node.receive(810, 2, join(2, [1, 2, 3], [3], seq));
  assert.equal(b.node.state, 'COMMIT', 'it caught up');
  // ...but not two: a laggard that stays behind fails like any member that has not agreed.
  const b2 = gathering();
  b2.node.receive(0, 2, join(2, [1, 2, 3], [], seq));
  b2.node.timerExpired(800, SrpTimer.Consensus);
  b2.node.receive(810, 2, join(2, [1, 2, 3], [], seq));
  b2.node.timerExpired(1600, SrpTimer.Consensus);
  assert.deepEqual(lastFailed(b2.host), [2, 3]);
  assert.equal(b2.node.state, 'COMMIT');

  // Node 2 holds 4 failed, whom I hear: a conflict only a split ends.
  const c = gathering();
  c.node.receive(0, 4, join(4, [1, 2, 4], [], seq));
  c.node.receive(0, 2, join(2, [1, 2, 4], [4], seq));
  c.node.receive(10, 4, join(4, [1, 2, 4], [], seq));
  c.node.timerExpired(800, SrpTimer.Consensus);
  assert.deepEqual(lastFailed(c.host), [2]);
});

test('GATHER: a join older than my ring that lists me as failed is stale and ignored; a current one still fails its sender', () => {
  // The services sweep's livelock: every node's consensus timeout fired together, each
  // multicast "all others failed" and formed a singleton ring; those joins, arriving in the
  // next GATHER, made each node fail every other again, round after round.
  const { node, host } = makeNode(1);
  node.start(0);
  pumpSelf(node, host);
  const ringSeq = node.ringId.seq;
  node.receive(0, 3, join(3, [1, 3], [], ringSeq));
  assert.equal(node.state, 'GATHER');
  const joinsBefore = host.ofType(MessageType.Join).length;
  node.receive(0, 2, join(2, [1, 2, 3], [1, 3], ringSeq - 1));
  assert.equal(host.ofType(MessageType.Join).length, joinsBefore, 'the stale join changes nothing');
  node.receive(0, 2, join(2, [1, 2, 3], [], ringSeq));
  node.receive(0, 2, join(2, [1, 2, 3], [], ringSeq));
  node.receive(0, 3, join(3, [1, 2, 3], [], ringSeq));
  const commits = host.ofType(MessageType.CommitToken);
  assert.equal(node.state, 'COMMIT', 'all three agree at once, without a consensus timeout');
  assert.deepEqual(commits.at(-1)!.members, [1, 2, 3]);
  assert.equal(node.stats.consensusTimeouts, 0);

  const other = makeNode(1);
  other.node.start(0);
  pumpSelf(other.node, other.host);
  const seq = other.node.ringId.seq;
  other.node.receive(0, 3, join(3, [1, 3], [], seq));
  other.node.receive(0, 2, join(2, [1, 2, 3], [1, 3], seq));
  assert.deepEqual(
    other.host.ofType(MessageType.Join).at(-1)!.failedList,
    [2],
    'a current join listing me fails its sender',
  );
});

test('GATHER: agreement with a lower node makes it the representative; its commit token is accepted', () => {
  const { node, host } = makeNode(5);
  node.start(0);
  pumpSelf(node, host);
  node.receive(0, 3, join(3, [3, 5], [], 1));
  assert.equal(node.state, 'GATHER');
  node.receive(0, 3, join(3, [3, 5], [], 1));
  assert.equal(node.state, 'GATHER', 'node 3 is the lowest: node 5 waits for its commit token');
  const wrong = totemCodec.encode({
    type: MessageType.CommitToken,
    sender: 3,
    tokenSeq: 1,
    ringId: { rep: 3, seq: 100 },
    retransFlg: false,
    membIndex: 1,
    members: [3, 4, 5],
    entries: [0, 1, 2].map(() => ({
      ringId: { rep: 0, seq: 0 },
      aru: 0,
      highDelivered: 0,
      receivedFlg: false,
    })),
  });
  node.receive(0, 3, wrong);
  assert.equal(node.state, 'GATHER', 'a commit token for another membership is ignored');
  const ct = totemCodec.encode({
    type: MessageType.CommitToken,
    sender: 3,
    tokenSeq: 1,
    ringId: { rep: 3, seq: 100 },
    retransFlg: false,
    membIndex: 1,
    members: [3, 5],
    entries: [
      { ringId: { rep: 3, seq: 1 }, aru: 0, highDelivered: 0, receivedFlg: true },
      { ringId: { rep: 0, seq: 0 }, aru: 0, highDelivered: 0, receivedFlg: false },
    ],
  });
  node.receive(0, 3, ct);
  assert.equal(node.state, 'COMMIT');
  assert.deepEqual(host.persisted.at(-1), 100);
  const fwd = host.sent.at(-1)!;
  assert.equal(fwd.to, 3);
  assert.equal(fwd.msg.type, MessageType.CommitToken);
  if (fwd.msg.type === MessageType.CommitToken) {
    assert.equal(fwd.msg.membIndex, 2);
    assert.deepEqual(fwd.msg.entries[1]!.ringId, { rep: 5, seq: 5 });
  }
  // COMMIT: token loss goes back to GATHER.
  node.timerExpired(2000, SrpTimer.TokenLoss);
  assert.equal(node.state, 'GATHER');
});

test('a retransmitted token is dropped without touching timers; range violations re-form the ring', () => {
  const w = new World({ seed: 5, nodes: [1, 2], capture: true });
  for (const id of w.nodes) w.startNode(id);
  w.runUntilStable(5000);
  const n2 = w.current.get(2)!;
  let lastToken: Uint8Array | null = null;
  w.dropFilter = (_from, to, packet) => {
    if (to === 2 && packet[3] === MessageType.Token) lastToken = packet.slice();
    return false;
  };
  w.mcast(1, Guarantee.Agreed);
  w.runFor(50);
  assert.ok(lastToken);
  const before = n2.srp.stats.packetsDropped['retransmitted-token'];
  const records = (n2.recorder as CapturingRecorder).records.length;
  n2.srp.receive(w.now, 1, lastToken);
  assert.equal(n2.srp.stats.packetsDropped['retransmitted-token'], before + 1);
  const newRecords = (n2.recorder as CapturingRecorder).records.slice(records);
  assert.deepEqual(
    newRecords.map((r) => r.ev),
    [EV.SRP_DROP],
    'only the drop is recorded: no timer reset, no aru update',
  );
  // A token asking for a message beyond its own seq: a typed, bounded condition.
  const tok = totemCodec.decode(lastToken) as TokenMessage;
  const bad: TokenMessage = {
    ...tok,
    tokenSeq: tok.tokenSeq + 1000,
    rtr: [{ ringId: tok.ringId, seq: tok.seq + 5 }],
  };
  n2.srp.receive(w.now, 1, totemCodec.encode(bad));
  assert.equal(n2.srp.stats.rangeViolations, 1);
  assert.equal(n2.srp.state, 'GATHER');
  w.dropFilter = null;
  w.runUntilStable(5000);
  const far: TokenMessage = { ...tok, ringId: n2.srp.ringId, tokenSeq: 0x7ffffff0, seq: 0x40000000, rtr: [] };
  n2.srp.receive(w.now, 1, totemCodec.encode(far));
  assert.equal(n2.srp.stats.rangeViolations, 2);
  assert.equal(n2.srp.state, 'GATHER');
  w.runUntilStable(5000);
});

test('recorded contract: MCAST_TX, DELIVER, CONF/CONF_MEMBER, TOKEN_RX and STATE', () => {
  const w = new World({ seed: 9, nodes: [1, 2, 3], capture: true });
  for (const id of w.nodes) w.startNode(id);
  w.runUntilStable(5000);
  for (let i = 0; i < 5; i++) for (const n of w.nodes) w.mcast(n, Guarantee.Agreed);
  w.runFor(500);
  w.crash(3);
  w.runUntilStable(5000, [1, 2]);
  for (const inc of w.live()) {
    const recs = (inc.recorder as CapturingRecorder).records;
    const delivers = recs.filter((r) => r.ev === EV.SRP_DELIVER);
    const msgs = inc.log.filter((e) => e.kind === 'msg');
    assert.equal(delivers.length, msgs.length);
    delivers.forEach((r, k) => {
      const m = msgs[k]!;
      assert.equal(`${r.args[0]}.${r.args[1]}`, m.ring);
      assert.equal(r.args[2]! >>> 0, m.seq);
      assert.equal(r.args[3], m.sender);
    });
    for (const tx of recs.filter((r) => r.ev === EV.SRP_MCAST_TX)) {
      assert.ok(
        delivers.some(
          (d) => d.args[0] === tx.args[0] && d.args[1] === tx.args[1] && d.args[2] === tx.args[2],
        ),
        'every message given a seq here is delivered here',
      );
    }
    const confs = inc.log.filter((e) => e.kind === 'conf');
    const confRecs = recs.map((r, i) => ({ r, i })).filter((x) => x.r.ev === EV.SRP_CONF);
    assert.equal(confRecs.length, confs.length);
    confRecs.forEach(({ r, i }, k) => {
      const c = (confs[k] as { conf: Configuration }).conf;
      assert.equal(r.args[0], c.kind === 'transitional' ? 0 : 1);
      assert.equal(r.args[3], c.members.length);
      const members = recs.slice(i + 1, i + 1 + c.members.length + c.left.length + c.joined.length);
      assert.ok(members.every((m) => m.ev === EV.SRP_CONF_MEMBER && m.args[0] === r.args[1]));
      assert.deepEqual(
        members.filter((m) => m.args[3] === 0).map((m) => m.args[2]),
        [...c.members],
      );
      assert.deepEqual(
        members.filter((m) => m.args[3] === 1).map((m) => m.args[2]),
        [...c.left],
      );
      assert.deepEqual(
        members.filter((m) => m.args[3] === 2).map((m) => m.args[2]),
        [...c.joined],
      );
    });
    assert.ok(recs.some((r) => r.ev === EV.SRP_TOKEN_RX));
    const states = recs.filter((r) => r.ev === EV.SRP_STATE);
    assert.ok(states.length >= 8);
    for (let k = 1; k < states.length; k++) assert.equal(states[k]!.args[0], states[k - 1]!.args[1]);
  }
});

test('a graceful leave sends a join with the leaver in its own failed set, then goes quiet', () => {
  const { node, host } = makeNode(3);
  node.start(0);
  pumpSelf(node, host);
  node.leave(10);
  const j = host.ofType(MessageType.Join).at(-1)!;
  assert.equal(j.leave, true);
  assert.deepEqual(j.failedList, [3]);
  assert.deepEqual(j.procList, []);
  const n = host.sent.length;
  node.timerExpired(20, SrpTimer.TokenLoss);
  node.receive(20, 4, join(4, [4], [], 1));
  assert.equal(host.sent.length, n);
  assert.equal(node.mcast(new Uint8Array(1), Guarantee.Agreed), false);
});
