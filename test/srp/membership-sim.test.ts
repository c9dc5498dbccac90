import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Guarantee } from '../../src/core/io.js';
import { checkAllDelivered, checkInvariants, confs, messageIds, World } from './harness.js';

function sendBurst(w: World, perNode: number, guarantee: Guarantee = Guarantee.Agreed): void {
  for (let i = 0; i < perNode; i++) for (const inc of w.live()) w.mcast(inc.node, guarantee);
}

for (const n of [1, 3, 5]) {
  test(`${n} node(s) form one ring; all deliver the same messages in the same order with self-delivery`, () => {
    const nodes = Array.from({ length: n }, (_, i) => i + 1);
    const w = new World({ seed: 10 + n, nodes });
    for (const id of nodes) w.startNode(id);
    w.runUntilStable(10_000);
    sendBurst(w, 40);
    w.runFor(3000);
    checkInvariants(w);
    checkAllDelivered(w);
    const streams = w.live().map((i) => messageIds(i).join(' '));
    for (const s of streams) assert.equal(s, streams[0]);
    assert.equal(messageIds(w.live()[0]!).length, 40 * n);
  });
}

test('a crashed node: the rest reconfigure (transitional then regular) and keep delivering', () => {
  const w = new World({ seed: 21, nodes: [1, 2, 3, 4] });
  for (const id of w.nodes) w.startNode(id);
  w.runUntilStable(10_000);
  sendBurst(w, 10);
  w.runFor(500);
  w.crash(3);
  w.runUntilStable(10_000, [1, 2, 4]);
  for (const inc of w.live()) {
    const cs = confs(inc);
    const trans = cs[cs.length - 2]!;
    const reg = cs[cs.length - 1]!;
    assert.equal(trans.kind, 'transitional');
    assert.deepEqual([...trans.members], [1, 2, 4]);
    assert.deepEqual([...trans.left], [3]);
    assert.equal(reg.kind, 'regular');
    assert.deepEqual([...reg.members], [1, 2, 4]);
    assert.deepEqual([...reg.joined], []);
  }
  sendBurst(w, 20);
  w.runFor(2000);
  checkInvariants(w);
  checkAllDelivered(w);
});

test('messages multicast just before a crash are recovered for the survivors (received_flg case)', () => {
  // Node 3 misses node 1's last messages; node 1 crashes right after sending them, so only
  // node 2 holds them and must re-originate them in RECOVERY.
  let recovered = 0;
  for (let seed = 0; seed < 8; seed++) {
    const w = new World({ seed: 100 + seed, nodes: [1, 2, 3] });
    for (const id of w.nodes) w.startNode(id);
    w.runUntilStable(10_000);
    sendBurst(w, 5);
    w.runFor(300);
    w.dropFilter = (_from, to, packet) => to === 3 && packet[3] === 1;
    const lastWords: string[] = [];
    for (let i = 0; i < 8; i++) lastWords.push(w.mcast(1, Guarantee.Agreed)!);
    w.runFor(2 + (seed % 3));
    w.crash(1);
    w.dropFilter = null;
    w.runUntilStable(10_000, [2, 3]);
    w.runFor(500);
    checkInvariants(w);
    const [n2, n3] = w.live();
    assert.deepEqual(messageIds(n3!), messageIds(n2!), 'survivors delivered the same stream');
    const got = new Set(messageIds(n3!));
    const sentBeforeCrash = lastWords.filter((id) => messageIds(n2!).includes(id));
    for (const id of sentBeforeCrash) assert.ok(got.has(id), `node 3 recovered ${id}`);
    recovered += n2!.srp.stats.recoveryOriginated;
  }
  assert.ok(recovered > 0, 'some run exercised recovery re-origination');
});

test('received_flg is cleared against the highest old-ring aru: a node that saw neither the messages nor their token still gets them', () => {
  // Ring 1 -> 2 -> 3. Node 1 multicasts; node 3 misses the messages and the token that carries
  // their seqs, so its aru equals its highest seq: locally it believes it has everything.
  for (let seed = 0; seed < 4; seed++) {
    const w = new World({ seed: 200 + seed, nodes: [1, 2, 3] });
    for (const id of w.nodes) w.startNode(id);
    w.runUntilStable(10_000);
    sendBurst(w, 3);
    w.runFor(500);
    let blockToken = false;
    w.dropFilter = (from, to, packet) =>
      to === 3 && (packet[3] === 1 || (blockToken && from === 2 && packet[3] === 0));
    const n1 = w.current.get(1)!;
    const before = n1.srp.stats.messagesOriginated;
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push(w.mcast(1, Guarantee.Agreed)!);
    while (n1.srp.stats.messagesOriginated < before + 6) w.runFor(0.05);
    blockToken = true;
    w.runFor(3);
    w.crash(1);
    w.runFor(1100);
    w.dropFilter = null;
    w.runUntilStable(10_000, [2, 3]);
    w.runFor(500);
    checkInvariants(w);
    const [n2, n3] = w.live();
    assert.ok(
      ids.every((id) => messageIds(n2!).includes(id)),
      'node 2 received all of them',
    );
    assert.deepEqual(messageIds(n3!), messageIds(n2!));
    assert.ok(n2!.srp.stats.recoveryOriginated > 0, 'node 2 re-originated them in RECOVERY');
  }
});

test('a node restarts and rejoins; ring ids never go backwards', () => {
  const w = new World({ seed: 31, nodes: [1, 2, 3] });
  for (const id of w.nodes) w.startNode(id);
  w.runUntilStable(10_000);
  const firstRing = w.live()[0]!.srp.ringId.seq;
  w.crash(1);
  w.runUntilStable(10_000, [2, 3]);
  const restarted = w.startNode(1);
  assert.ok(restarted.srp.ringId.seq > (w.persisted.get(1) ?? 0) - 1);
  w.runUntilStable(10_000);
  const ring = w.live()[0]!.srp.ringId;
  assert.ok(ring.seq > firstRing);
  assert.equal(ring.rep, 1);
  sendBurst(w, 15);
  w.runFor(2000);
  checkInvariants(w);
  checkAllDelivered(w);
});

test('partition and heal: both sides keep running, then merge into one ring', () => {
  const w = new World({ seed: 41, nodes: [1, 2, 3, 4, 5] });
  for (const id of w.nodes) w.startNode(id);
  w.runUntilStable(10_000);
  w.partition([1, 2], [3, 4, 5]);
  w.runFor(100);
  sendBurst(w, 5);
  w.runUntil(w.now + 5000);
  assert.ok(w.stable([1, 2]) && w.stable([3, 4, 5]), 'each side formed its own ring');
  sendBurst(w, 10);
  w.runFor(1000);
  w.heal();
  w.runUntilStable(15_000);
  sendBurst(w, 10);
  w.runFor(2000);
  checkInvariants(w);
  const last = w.live().map((i) => messageIds(i).slice(-50).join(' '));
  for (const s of last) assert.equal(s, last[0]);
});

test('a graceful leave makes the others reconfigure without waiting for token loss', () => {
  const w = new World({ seed: 51, nodes: [1, 2, 3] });
  for (const id of w.nodes) w.startNode(id);
  w.runUntilStable(10_000);
  sendBurst(w, 5);
  w.runFor(500);
  const t0 = w.now;
  w.leave(2);
  w.runUntilStable(10_000, [1, 3]);
  assert.ok(w.now - t0 < 500, `reconfigured after ${w.now - t0} ms (token timeout is 1000)`);
  for (const inc of w.live()) assert.equal(inc.srp.stats.tokenLosses, 0);
  sendBurst(w, 5);
  w.runFor(1000);
  checkInvariants(w);
  checkAllDelivered(w);
});

test('safe and agreed messages are delivered in one total order', () => {
  const w = new World({ seed: 61, nodes: [1, 2, 3, 4] });
  for (const id of w.nodes) w.startNode(id);
  w.runUntilStable(10_000);
  for (let i = 0; i < 30; i++)
    for (const inc of w.live()) w.mcast(inc.node, i % 3 === 0 ? Guarantee.Safe : Guarantee.Agreed);
  w.runFor(3000);
  checkInvariants(w);
  checkAllDelivered(w);
  const safe = w.live()[0]!.log.filter((e) => e.kind === 'msg' && e.guarantee === Guarantee.Safe).length;
  assert.equal(safe, 40);
});

for (const loss of [0.1, 0.2]) {
  test(`${loss * 100}% packet loss still converges and delivers everything exactly once`, () => {
    const w = new World({ seed: 71 + loss * 100, nodes: [1, 2, 3, 4], loss });
    for (const id of w.nodes) w.startNode(id);
    w.runUntilStable(30_000);
    for (let round = 0; round < 5; round++) {
      sendBurst(w, 10, round % 2 ? Guarantee.Safe : Guarantee.Agreed);
      w.runFor(400);
    }
    w.loss = 0;
    w.runUntilStable(30_000);
    w.runFor(3000);
    checkInvariants(w);
    checkAllDelivered(w);
  });
}

test('sequence numbers wrap: start near 0xffffffff', () => {
  const w = new World({ seed: 81, nodes: [1, 2, 3], config: { startSeq: 0xfffffe00 } });
  for (const id of w.nodes) w.startNode(id);
  w.runUntilStable(10_000);
  for (let round = 0; round < 12; round++) {
    sendBurst(w, 20, round % 4 === 0 ? Guarantee.Safe : Guarantee.Agreed);
    w.runFor(200);
  }
  w.runFor(2000);
  checkInvariants(w);
  checkAllDelivered(w);
  const seqs = w
    .live()[0]!
    .log.filter((e) => e.kind === 'msg')
    .map((e) => (e as { seq: number }).seq);
  assert.ok(
    seqs.some((s) => s > 0xffffff00) && seqs.some((s) => s < 0x100),
    'delivery crossed the wrap point',
  );
});
