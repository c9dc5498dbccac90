import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EV } from '../../src/recorder/events/index.js';
import { SLOT_WORDS, SLOTS_OFFSET } from '../../src/recorder/format.js';
import { Recorder } from '../../src/recorder/recorder.js';

test('rec writes the commit word last and stamps the driver time', () => {
  const r = new Recorder({ slots: 16, virtualClock: true });
  r.setTime(12.5);
  r.rec(EV.SRP_DELIVER, 1, 2, 3, 4);
  const words = new Int32Array(r.buffer, SLOTS_OFFSET);
  const seq = r.lastSeq;
  const w = (seq & 15) * SLOT_WORDS;
  assert.equal(words[w], seq);
  assert.equal(words[w + 1], EV.SRP_DELIVER);
  assert.equal(new Float64Array(r.buffer, SLOTS_OFFSET)[(w >> 1) + 1], 12.5);
  assert.deepEqual([...words.subarray(w + 4, w + 8)], [1, 2, 3, 4]);
});
