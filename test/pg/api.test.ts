import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { type Configuration, Guarantee, type NodeId, type OrderedChannel } from '../../src/core/io.js';
import { DEFAULT_FRAME_SIZE } from '../../src/pg/budget.js';
import { FramePacker } from '../../src/pg/packer.js';
import { ProcessGroups } from '../../src/pg/process-groups.js';
import { EV } from '../../src/recorder/events/index.js';
import { Recorder } from '../../src/recorder/recorder.js';
import { Cluster, deliveryProblems, makePieces } from './harness.js';
import { frameSizeArb, pieceSize } from './ops.js';
import { readRecords } from './records.js';

/** A channel whose room the test sets by hand; keeps what it accepted. */
class ManualChannel implements OrderedChannel {
  readonly accepted: Uint8Array[] = [];
  constructor(
    public room: number,
    readonly maxPayload = 1400,
  ) {}
  mcast(payload: Uint8Array): boolean {
    if (this.room <= 0) return false;
    this.room--;
    this.accepted.push(payload);
    return true;
  }
  sendQueueRoom(): number {
    return this.room;
  }
}

const recorder = () => new Recorder({ slots: 1024, virtualClock: true });

test('defaults: frame size is the MTU budget capped by the channel, max message 1 MiB', () => {
  const pg = new ProcessGroups({ channel: new ManualChannel(10, 9000), recorder: recorder(), nodeId: 1 });
  assert.equal(pg.frameSize, DEFAULT_FRAME_SIZE);
  assert.equal(DEFAULT_FRAME_SIZE, 1324);
  assert.equal(pg.maxMessageSize, 1024 * 1024);
  const small = new ProcessGroups({ channel: new ManualChannel(10, 600), recorder: recorder(), nodeId: 1 });
  assert.equal(small.frameSize, 600);
  assert.throws(
    () => new ProcessGroups({ channel: new ManualChannel(10, 100), recorder: recorder(), nodeId: 1 }),
    RangeError,
  );
});

test('too large: a typed result, nothing queued, no id used', () => {
  const ch = new ManualChannel(100_000);
  const pg = new ProcessGroups({ channel: ch, recorder: recorder(), nodeId: 1, maxMessageSize: 5000 });
  assert.deepEqual(pg.send('a', [new Uint8Array(4000), new Uint8Array(1001)]), {
    kind: 'too-large',
    size: 5001,
    max: 5000,
  });
  const ok = pg.send('a', [new Uint8Array(5000)]);
  assert.deepEqual(ok, { kind: 'ok', msgId: 1 });
  const big = new ProcessGroups({ channel: ch, recorder: recorder(), nodeId: 1 });
  assert.equal(big.send('a', new Uint8Array(1024 * 1024 + 1)).kind, 'too-large');
  assert.equal(big.send('a', new Uint8Array(1024 * 1024)).kind, 'ok');
});

test('try again: the room check counts every fragment, and a refused send leaves no trace on the wire', () => {
  const ch = new ManualChannel(0, 1000);
  const pg = new ProcessGroups({ channel: ch, recorder: recorder(), nodeId: 1 });
  const message = [new Uint8Array(5000)];
  const refused = pg.send('a', message);
  assert.equal(refused.kind, 'try-again');
  const need = refused.kind === 'try-again' ? refused.framesNeeded : 0;
  assert.equal(need, 6); // 5000 bytes in frames of 1000: five full frames and a staged sixth
  ch.room = need - 1;
  assert.equal(pg.send('a', message).kind, 'try-again');
  assert.equal(ch.accepted.length, 0);
  assert.equal(pg.stagedFrameBytes, 0);
  ch.room = need;
  assert.deepEqual(pg.send('a', message), { kind: 'ok', msgId: 1 });
  assert.equal(ch.accepted.length, 5);
  assert.ok(pg.stagedFrameBytes > 0);
  // The staged frame's slot was reserved: the token-visit flush always finds room.
  assert.equal(ch.room, 1);
  pg.tokenVisit();
  assert.equal(ch.accepted.length, 6);
  assert.equal(pg.stagedFrameBytes, 0);
});

test('a channel that refuses anyway: frames wait in order and go out at the next token visit', () => {
  const ch = new ManualChannel(100, 400);
  const rec = recorder();
  const pg = new ProcessGroups({ channel: ch, recorder: rec, nodeId: 1 });
  assert.equal(pg.send('a', new Uint8Array(1000)).kind, 'ok');
  const before = ch.accepted.length;
  ch.room = 0; // e.g. the ordering layer switched queues during a membership change
  pg.tokenVisit();
  assert.equal(pg.framesWaiting, 1);
  assert.ok(readRecords(rec).some((r) => r.ev === EV.PG_FRAME_BLOCKED));
  assert.equal(pg.send('a', new Uint8Array(10)).kind, 'try-again');
  ch.room = 5;
  pg.tokenVisit();
  assert.equal(pg.framesWaiting, 0);
  assert.equal(ch.accepted.length, before + 1);
});

test('framesNeeded always equals the frames the message then costs', () => {
  fc.assert(
    fc.property(
      frameSizeArb,
      fc.integer({ min: 1, max: 10 }),
      fc.array(
        fc.record({
          sizes: fc.array(pieceSize, { maxLength: 5 }),
          g: fc.integer({ min: 0, max: 40 }),
          safe: fc.boolean(),
        }),
        {
          maxLength: 20,
        },
      ),
      (frameSize, maxPackedChunks, messages) => {
        let closed = 0;
        const packer = new FramePacker(
          { frameSize, maxPackedChunks, maxPackedBytes: frameSize },
          () => closed++,
          recorder(),
        );
        let id = 0;
        for (const m of messages) {
          const pieces = makePieces(m.sizes, id);
          const total = pieces.reduce((a, p) => a + p.length, 0);
          const group = new Uint8Array(m.g);
          const g = m.safe ? Guarantee.Safe : Guarantee.Agreed;
          const stagedBefore = packer.stagedBytes > 0 ? 1 : 0;
          const need = packer.framesNeeded(group.length, pieces, total, g);
          const closedBefore = closed;
          packer.add(++id, group, pieces, total, g);
          const cost = closed - closedBefore + (packer.stagedBytes > 0 ? 1 : 0);
          assert.equal(need, cost);
          assert.ok(cost >= stagedBefore);
        }
      },
    ),
    { numRuns: 1000 },
  );
});

test('groups: byte-exact names, several listeners, leave, unjoined groups counted', () => {
  const cluster = new Cluster({ members: [1, 2], groups: [] });
  const seen: string[] = [];
  const pg2 = cluster.member(2).pg;
  const listen = (tag: string) => ({
    deliver(group: Uint8Array, sender: NodeId, message: Uint8Array, guarantee: Guarantee) {
      seen.push(`${tag}:${[...group].join('.')}:${sender}:${message.length}:${guarantee}`);
    },
  });
  pg2.join(Uint8Array.of(1, 2), listen('x'));
  const y = pg2.join(Uint8Array.of(1, 2), listen('y'));
  pg2.join(Uint8Array.of(1, 2, 0), listen('z'));
  pg2.join('', listen('empty'));
  cluster.sendEventually(1, Uint8Array.of(1, 2) as unknown as string, [new Uint8Array(3)]);
  cluster.ring.settle();
  assert.deepEqual(seen, ['x:1.2:1:3:0', 'y:1.2:1:3:0']);
  seen.length = 0;
  y.leave();
  y.leave();
  assert.equal(
    cluster.member(1).pg.send(Uint8Array.of(1, 2, 0), [new Uint8Array(4)], Guarantee.Safe).kind,
    'ok',
  );
  assert.equal(cluster.member(1).pg.send('', [], Guarantee.Agreed).kind, 'ok');
  assert.equal(cluster.member(1).pg.send('nobody', [new Uint8Array(1)]).kind, 'ok');
  cluster.sendEventually(1, Uint8Array.of(1, 2) as unknown as string, [new Uint8Array(5)]);
  cluster.ring.settle();
  assert.deepEqual(seen, ['z:1.2.0:1:4:1', 'empty::1:0:0', 'x:1.2:1:5:0']);
  assert.equal(pg2.stats.undelivered, 1);
  assert.throws(() => pg2.join('x'.repeat(256), listen('long')), RangeError);
});

test('configuration changes reach each joined listener once', () => {
  const cluster = new Cluster({ members: [1, 2, 3], groups: ['a', 'b'] });
  cluster.removeMembers([3]);
  const confs: Configuration[] = cluster.member(1).confs;
  assert.deepEqual(
    confs.map((c) => [c.kind, c.members, c.left, c.joined]),
    [
      ['transitional', [1, 2], [3], []],
      ['regular', [1, 2], [], []],
    ],
  );
});

test('packing: small messages share a frame until the token visit or a bound closes it', () => {
  const cluster = new Cluster({ members: [1, 2], maxPackedChunks: 4 });
  for (let i = 0; i < 3; i++) cluster.sendEventually(1, 'a', makePieces([10], i));
  assert.equal(cluster.ring.queuedFrames(), 0);
  cluster.ring.visit(1);
  assert.equal(cluster.ring.ordered.length, 1);
  for (let i = 0; i < 9; i++) cluster.sendEventually(1, 'a', makePieces([10], i));
  assert.equal(cluster.ring.queuedFrames(), 2); // two frames closed by the 4-chunk bound
  cluster.ring.settle();
  assert.equal(cluster.ring.ordered.length, 4);
  for (const m of cluster.members.values()) assert.deepEqual(deliveryProblems(m, cluster.sent), []);
});

test('a guarantee switch closes the frame; deliveries keep their guarantee', () => {
  const cluster = new Cluster({ members: [1, 2] });
  cluster.sendEventually(1, 'a', makePieces([10], 1), Guarantee.Agreed);
  cluster.sendEventually(1, 'a', makePieces([10], 2), Guarantee.Safe);
  cluster.sendEventually(1, 'a', makePieces([3000], 3), Guarantee.Safe);
  cluster.ring.settle();
  for (const m of cluster.members.values()) {
    assert.deepEqual(
      m.deliveries.map((d) => d.guarantee),
      [Guarantee.Agreed, Guarantee.Safe, Guarantee.Safe],
    );
  }
});

test('records: PG_SEND and PG_DELIVER carry the wire message id; fragments and assembly recorded', () => {
  const cluster = new Cluster({ members: [1, 2, 3], frameSize: 300, recorderSlots: 4096 });
  cluster.sendEventually(2, 'sync', makePieces([4, 1, 352, 7, 0], 1));
  cluster.sendEventually(2, 'sync', []);
  cluster.ring.settle();
  const sendRecs = readRecords(cluster.member(2).recorder).filter((r) => r.ev === EV.PG_SEND);
  assert.deepEqual(
    sendRecs.map((r) => r.args.slice(0, 3)),
    [
      [1, 364, 5],
      [2, 0, 0],
    ],
  );
  const txFrags = readRecords(cluster.member(2).recorder).filter((r) => r.ev === EV.PG_FRAG_TX);
  assert.deepEqual(
    txFrags.map((r) => [r.args[0], r.args[1], r.args[3]]),
    [
      [1, 0, 1],
      [1, 1, 2],
      [2, 0, 3],
    ],
  );
  for (const m of cluster.members.values()) {
    const recs = readRecords(m.recorder);
    const delivers = recs.filter((r) => r.ev === EV.PG_DELIVER);
    assert.deepEqual(
      delivers.map((r) => r.args.slice(0, 3)),
      [
        [2, 1, 364],
        [2, 2, 0],
      ],
    );
    // Group ids index each node's own string table; on the sender both records use the same one.
    if (m.id === 2) assert.equal(delivers[0]!.args[3], sendRecs[0]!.args[3]);
    const assembled = recs.filter((r) => r.ev === EV.PG_ASSEMBLED);
    assert.deepEqual(
      assembled.map((r) => r.args),
      [
        [2, 1, 364, 2],
        [2, 2, 0, 1],
      ],
    );
    assert.equal(recs.filter((r) => r.ev === EV.PG_FRAG_RX).length, 3);
  }
});
