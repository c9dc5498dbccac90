import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { checkRings } from '../../src/recorder/check.js';
import { EV } from '../../src/recorder/events/index.js';
import { replay } from '../../src/recorder/fplay.js';
import { readRing } from '../../src/recorder/reader.js';
import { Recorder } from '../../src/recorder/recorder.js';

function sample(): Uint8Array {
  const r = new Recorder({ slots: 128, virtualClock: true, nodeId: 2 });
  r.intern('a string');
  for (let i = 0; i < 300; i++) {
    r.setTime(i / 3);
    if (i % 7 === 0) r.recWide(EV.REC_MARK, i, 1, 2, 3, 4, 5, 6, 7);
    else r.rec(i % 2 ? EV.SRP_DELIVER : EV.PG_DELIVER, 1, 2, i, 4);
  }
  return r.snapshot();
}

test('the reader never throws on flipped bytes or truncation (3000 cases)', () => {
  const base = sample();
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.nat(base.length - 1), fc.integer({ min: 1, max: 255 })), { maxLength: 64 }),
      fc.option(fc.nat(base.length), { nil: undefined }),
      fc.boolean(),
      (flips, cut, hitHeader) => {
        const bytes = base.slice(0, cut ?? base.length);
        for (const [at, x] of flips) {
          // Half the cases aim at the header and metadata, where a reader is easiest to confuse.
          const pos = hitHeader ? at % Math.min(bytes.length || 1, 200_000) : at;
          if (pos < bytes.length) bytes[pos]! ^= x;
        }
        const img = readRing(bytes, 'fuzz');
        assert.ok(img.records.count <= 128);
        // Everything downstream of the reader must cope with whatever it returned.
        const lines = replay([img]);
        assert.ok(lines.length <= 128);
        checkRings([img]);
      },
    ),
    { numRuns: 3000, seed: 20261128 },
  );
});

test('random garbage of any length is rejected with a message', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 9000 }), (bytes) => {
      const img = readRing(bytes, 'garbage');
      assert.equal(img.records.count, 0);
      assert.ok(img.problems.length > 0);
    }),
    { numRuns: 500, seed: 7 },
  );
});
