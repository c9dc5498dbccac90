import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Configuration, Guarantee, NodeId, OrderedListener, RingId } from '../../src/core/io.js';
import { LoopbackRing } from '../../src/pg/loopback-ordered-channel.js';

class Log implements OrderedListener {
  readonly events: string[] = [];
  constructor(private readonly onVisit: () => void = () => {}) {}
  deliver(sender: NodeId, payload: Uint8Array, _g: Guarantee, ring: RingId, seq: number): void {
    this.events.push(`d ${sender} ${payload[0]} r${ring.seq} s${seq}`);
  }
  configurationChange(conf: Configuration): void {
    this.events.push(`c ${conf.kind} [${conf.members}] left [${conf.left}] joined [${conf.joined}]`);
  }
  tokenVisit(): void {
    this.events.push('t');
    this.onVisit();
  }
}

test('loopback: one total order to every member, sender included; tokenVisit before the visit orders', () => {
  const ring = new LoopbackRing({ members: [3, 1, 2], queueCapacity: 2 });
  const logs = new Map<NodeId, Log>();
  for (const n of [1, 2, 3]) {
    const log = new Log(n === 2 ? () => ring.channel(2).mcast(Uint8Array.of(20), 0) : undefined);
    logs.set(n, log);
    ring.attach(n, log);
  }
  assert.equal(ring.channel(1).mcast(Uint8Array.of(10), 0), true);
  assert.equal(ring.channel(1).mcast(Uint8Array.of(11), 0), true);
  assert.equal(ring.channel(1).mcast(Uint8Array.of(12), 0), false);
  assert.equal(ring.channel(1).sendQueueRoom(), 0);
  assert.equal(ring.visit(1, 1), 1);
  ring.rotate();
  const common = logs.get(3)!.events.filter((e) => e.startsWith('d'));
  assert.deepEqual(common, ['d 1 10 r4 s1', 'd 1 11 r4 s2', 'd 2 20 r4 s3']);
  for (const n of [1, 2])
    assert.deepEqual(
      logs.get(n)!.events.filter((e) => e.startsWith('d')),
      common,
    );
});

test("loopback: reconfigure loses the leavers' unordered frames and delivers transitional then regular", () => {
  const ring = new LoopbackRing({ members: [1, 2, 3] });
  const logs = new Map<NodeId, Log>();
  for (const n of [1, 2, 3]) {
    logs.set(n, new Log());
    ring.attach(n, logs.get(n)!);
  }
  ring.channel(3).mcast(Uint8Array.of(30), 0);
  ring.reconfigure([1, 2, 4]);
  ring.attach(4, new Log());
  ring.rotate();
  assert.deepEqual(
    logs.get(1)!.events.filter((e) => !e.startsWith('t')),
    ['c transitional [1,2] left [3] joined []', 'c regular [1,2,4] left [] joined [4]'],
  );
  assert.deepEqual(logs.get(3)!.events, []);
  assert.deepEqual(ring.currentRing, { rep: 1, seq: 8 });
  assert.throws(() => ring.channel(3));
});
