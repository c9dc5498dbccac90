import { test } from 'node:test';
import fc from 'fast-check';
import { Guarantee, type RingId } from '../../src/core/io.js';
import { totemCodec } from '../../src/srp/codec.js';
import { MessageType, type SrpMessage } from '../../src/srp/messages.js';
import { World } from './harness.js';

/** Well-formed but arbitrary protocol messages, often aimed at the receiver's own ring. */
function arbitraryMessage(rings: RingId[]): fc.Arbitrary<SrpMessage> {
  const node = fc.integer({ min: 1, max: 6 });
  const ring = fc.oneof(fc.constantFrom(...rings), fc.record({ rep: node, seq: fc.nat(40) }));
  const seq = fc.oneof(fc.nat(60), fc.nat(0xffffffff));
  const nodeList = fc.uniqueArray(node, { maxLength: 6 }).map((a) => a.sort((x, y) => x - y));
  return fc.oneof(
    fc.record({
      type: fc.constant(MessageType.Token),
      sender: node,
      seq,
      tokenSeq: seq,
      aru: seq,
      aruAddr: fc.nat(6),
      ringId: ring,
      backlog: fc.nat(100),
      fcc: fc.nat(100),
      retransFlg: fc.boolean(),
      rtr: fc.array(fc.record({ ringId: ring, seq }), { maxLength: 30 }),
    }),
    fc.record({
      type: fc.constant(MessageType.Mcast),
      sender: node,
      origin: node,
      seq,
      ringId: ring,
      guarantee: fc.constantFrom(Guarantee.Agreed, Guarantee.Safe),
      encapsulated: fc.constant(null),
      payload: fc.uint8Array({ maxLength: 8 }),
    }),
    fc.record({ type: fc.constant(MessageType.MergeDetect), sender: node, ringId: ring }),
    fc.record({ type: fc.constant(MessageType.TokenHoldCancel), sender: node, ringId: ring }),
    fc.record({
      type: fc.constant(MessageType.Join),
      sender: node,
      leave: fc.boolean(),
      ringSeq: fc.nat(60),
      procList: nodeList,
      failedList: nodeList,
    }),
    nodeList
      .filter((m) => m.length > 0)
      .chain((members) =>
        fc.record({
          type: fc.constant(MessageType.CommitToken),
          sender: node,
          tokenSeq: seq,
          ringId: fc.oneof(
            fc.constantFrom(...rings),
            fc.nat(60).map((s) => ({ rep: members[0]!, seq: s })),
          ),
          retransFlg: fc.boolean(),
          membIndex: fc.nat(members.length),
          members: fc.constant(members),
          entries: fc.array(
            fc.record({ ringId: ring, aru: seq, highDelivered: seq, receivedFlg: fc.boolean() }),
            { minLength: members.length, maxLength: members.length },
          ),
        }),
      ),
  ) as fc.Arbitrary<SrpMessage>;
}

test('arbitrary well-formed protocol messages never crash a node', () => {
  fc.assert(
    fc.property(
      fc.nat(1000),
      fc.array(fc.tuple(fc.nat(), fc.nat(), fc.nat(50)), { maxLength: 40 }),
      (seed, plan) => {
        const w = new World({ seed, nodes: [1, 2, 3, 4] });
        for (const id of w.nodes) w.startNode(id);
        w.runFor(300);
        const rings = w.live().map((i) => i.srp.ringId);
        const gen = arbitraryMessage(rings);
        const samples = fc.sample(gen, { numRuns: plan.length, seed });
        plan.forEach(([target, _x, gap], k) => {
          const inc = w.live()[target % w.live().length]!;
          const msg = samples[k]!;
          if (msg.sender === inc.node) return;
          inc.srp.receive(w.now, msg.sender, totemCodec.encode(msg));
          if (k % 3 === 0) w.mcast(inc.node, Guarantee.Agreed);
          w.runFor(gap);
        });
        w.runFor(3000);
      },
    ),
    { numRuns: 60, seed: 42 },
  );
});
