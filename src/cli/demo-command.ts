import { join } from 'node:path';
import { EV } from '../recorder/events/index.js';
import { replay, summarize, summaryLine } from '../recorder/fplay.js';
import { loadRings } from '../recorder/load.js';
import { defaultRunDir, openProcessRing } from '../recorder/process-ring.js';
import type { Recorder } from '../recorder/recorder.js';

/** Records `count` deliveries, one driver timestamp per 16 records; returns ns per record. */
function burst(r: Recorder, count: number): number {
  const t0 = process.hrtime.bigint();
  for (let seq = 1; seq <= count; seq++) {
    if ((seq & 15) === 1) r.setTime(performance.now());
    r.rec(EV.SRP_DELIVER, 1, 4, seq, 1 + (seq % 3));
  }
  return Number(process.hrtime.bigint() - t0) / count;
}

/**
 * A short tour of the flight recorder: open this process's ring (a mapped file that
 * would survive kill -9), record a burst of events, read them back with fplay.
 */
export async function run(args: string[]): Promise<number> {
  if (args.includes('--help')) {
    process.stdout.write(
      'usage: totem demo\n\nRecords a burst of events into a flight-recorder ring and replays it.\n',
    );
    return 0;
  }
  const runDir = join(defaultRunDir(), 'demo');
  const ring = openProcessRing({ nodeId: 1, runDir, slots: 65536, label: 'totem demo', retain: 4 });
  const r = ring.recorder;
  process.stdout.write(
    `flight recorder ring: ${ring.path} (${ring.mapped ? 'memory-mapped' : 'in memory'})\n`,
  );

  const messages = 1_000_000;
  const cold = burst(r, messages);
  const warm = burst(r, messages);
  r.recNow(EV.REC_MARK, r.intern('demo burst done'), messages);
  process.stdout.write(
    `recorded 2 x ${messages.toLocaleString('en')} deliveries: ${cold.toFixed(1)} ns each cold, ${warm.toFixed(1)} ns each warm\n\n`,
  );

  const { images } = loadRings([ring.path]);
  for (const img of images) process.stdout.write(`${summaryLine(summarize(img))}\n`);
  for (const line of replay(images, { last: 5 })) process.stdout.write(`${line.text}\n`);
  ring.close('demo finished');
  process.stdout.write(
    `\nThe ring stays in ${runDir}. Try:\n  npx totem fplay --last 20 ${ring.path}\n  npx totem fplay --grep 'seq=4242 ' ${runDir}\n  npx totem fplay --chrome-trace /tmp/demo-trace.json --last 1000 ${ring.path}\n`,
  );
  return 0;
}
