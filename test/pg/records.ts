/** Reads back the records still held in a recorder's ring (oldest first), for assertions. */

import { SLOT_WORDS, SLOTS_OFFSET } from '../../src/recorder/format.js';
import type { Recorder } from '../../src/recorder/recorder.js';

export interface Rec {
  readonly seq: number;
  readonly ev: number;
  readonly args: readonly number[];
}

export function readRecords(recorder: Recorder): Rec[] {
  const words = new Int32Array(recorder.buffer, SLOTS_OFFSET, recorder.slotCount * SLOT_WORDS);
  const last = recorder.lastSeq;
  const first = Math.max(1, last - recorder.slotCount + 1);
  const out: Rec[] = [];
  for (let seq = first; seq <= last; seq++) {
    const w = (seq & (recorder.slotCount - 1)) * SLOT_WORDS;
    if (words[w] !== seq) continue;
    out.push({
      seq,
      ev: words[w + 1]! & 0xffff,
      args: [...words.subarray(w + 4, w + 8)].map((x) => x >>> 0),
    });
  }
  return out;
}
