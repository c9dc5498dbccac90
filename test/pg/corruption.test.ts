/**
 * Damaged frames give typed errors and never a wrong delivery: whatever a member delivers
 * from a sender is a subsequence of what that sender sent (same bytes, same group), every
 * member delivers the same, and each loss is explained by a recorded error.
 */

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { NodeId } from '../../src/core/io.js';
import {
  CHUNK_FIRST,
  CHUNK_LAST,
  CONTINUATION_HEADER_BYTES,
  FRAME_HEADER_BYTES,
  firstChunkHeaderBytes,
  resealFrame,
} from '../../src/pg/frame.js';
import { Cluster, isSubsequence, makePieces, sameSequence } from './harness.js';
import { frameSizeArb, pieceSize } from './ops.js';

interface Damage {
  /** Which ordered frames are damaged: seq % every === phase. */
  readonly every: number;
  readonly phase: number;
  readonly kind: 'flip' | 'truncate' | 'extend' | 'forge';
  readonly at: number;
  readonly mask: number;
  readonly field: 'msgId' | 'fragIndex' | 'totalLen' | 'last';
  readonly value: number;
}

const damageArb: fc.Arbitrary<Damage> = fc.record({
  every: fc.integer({ min: 1, max: 6 }),
  phase: fc.integer({ min: 0, max: 5 }),
  kind: fc.constantFrom('flip', 'truncate', 'extend', 'forge'),
  at: fc.double({ min: 0, max: 1, noNaN: true }),
  mask: fc.integer({ min: 1, max: 255 }),
  field: fc.constantFrom('msgId', 'fragIndex', 'totalLen', 'last'),
  value: fc.oneof(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 0xffffffff })),
});

interface ChunkFields {
  readonly flagsAt: number;
  readonly msgIdAt: number;
  /** totalLen on a first chunk, fragIndex on a continuation. */
  readonly wordAt: number;
  readonly first: boolean;
}

/** Where each chunk's header fields sit in a well-formed frame. */
function chunkFields(frame: Uint8Array): ChunkFields[] {
  const v = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const count = v.getUint16(6, true);
  const out: ChunkFields[] = [];
  let at = FRAME_HEADER_BYTES;
  for (let i = 0; i < count; i++) {
    const first = (v.getUint8(at) & CHUNK_FIRST) !== 0;
    const header = first ? firstChunkHeaderBytes(v.getUint8(at + 9)) : CONTINUATION_HEADER_BYTES;
    out.push({ flagsAt: at, msgIdAt: at + 1, wordAt: at + 5, first });
    at += header + v.getUint32(at + header - 4, true);
  }
  return out;
}

function damage(d: Damage, frame: Uint8Array, seq: number): Uint8Array {
  if (seq % d.every !== d.phase % d.every) return frame;
  const out = frame.slice();
  const pos = Math.floor(d.at * out.length) % out.length;
  switch (d.kind) {
    case 'flip':
      out[pos]! ^= d.mask;
      return out;
    case 'truncate':
      return out.subarray(0, pos);
    case 'extend': {
      const longer = new Uint8Array(out.length + 1 + (d.mask % 7));
      longer.set(out);
      return longer;
    }
    case 'forge': {
      // A structural lie with a valid seal: only the assembly checks can catch it.
      const chunks = chunkFields(out);
      const c = chunks[Math.floor(d.at * chunks.length) % chunks.length]!;
      const v = new DataView(out.buffer);
      if (d.field === 'msgId') v.setUint32(c.msgIdAt, d.value, true);
      else if (d.field === 'last') out[c.flagsAt]! ^= CHUNK_LAST;
      else if (d.field === 'totalLen' && c.first) v.setUint32(c.wordAt, d.value, true);
      else if (d.field === 'fragIndex' && !c.first) v.setUint32(c.wordAt, d.value, true);
      resealFrame(out);
      return out;
    }
  }
}

const scenarioArb = fc.record({
  frameSize: frameSizeArb,
  damage: damageArb,
  sends: fc.array(
    fc.record({
      sender: fc.integer({ min: 1, max: 3 }),
      sizes: fc.array(pieceSize, { maxLength: 6 }),
      visit: fc.boolean(),
    }),
    { minLength: 1, maxLength: 25, size: 'medium' },
  ),
});

test('damaged or forged frames: typed errors, no wrong delivery, every loss accounted for', () => {
  fc.assert(
    fc.property(scenarioArb, (s) => {
      let damaged = 0;
      const cluster = new Cluster({
        members: [1, 2, 3],
        frameSize: s.frameSize,
        maxMessageSize: 64 * 1024,
        recorderSlots: 64,
        tamper: (_sender, frame, seq) => {
          const out = damage(s.damage, frame, seq);
          if (out !== frame) damaged++;
          return out;
        },
      });
      let tag = 0;
      for (const send of s.sends) {
        cluster.sendEventually(send.sender, 'a', makePieces(send.sizes, ++tag));
        if (send.visit) cluster.ring.visit(send.sender);
      }
      cluster.ring.settle();
      const all = [...cluster.members.values()];
      for (const m of all) {
        assert.ok(sameSequence(m.deliveries, all[0]!.deliveries), 'members disagree');
        for (const sender of [1, 2, 3] as NodeId[]) {
          const got = m.deliveries.filter((d) => d.sender === sender);
          const sent = cluster.sent.filter((x) => x.sender === sender);
          assert.ok(isSubsequence(got, sent), `node ${m.id}: a delivery from ${sender} was never sent`);
        }
        const st = m.pg.stats;
        const explained = st.badFrames + st.assemblyErrors + st.partialsDropped + st.chunksSkipped;
        if (m.deliveries.length < cluster.sent.length)
          assert.ok(explained > 0, 'a message vanished silently');
        if (damaged === 0) assert.equal(explained, 0);
        // A damaged stream may leave a partial held until its sender's next frame or departure.
        if (damaged === 0) assert.deepEqual(m.pg.pendingSenders(), []);
      }
    }),
    { numRuns: 2000 },
  );
});
