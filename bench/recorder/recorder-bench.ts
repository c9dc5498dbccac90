/**
 * Flight-recorder benchmark: ns per record for the hot call (driver timestamp, and a clock
 * read per record), dump time for an 8 MiB ring, and fplay decode speed.
 *
 *   node dist/bench/recorder/recorder-bench.js [--json] [--records N]
 *
 * Each measurement runs in a fresh process so that its call sites stay monomorphic,
 * and reports the median of several runs.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EV } from '../../src/recorder/events/index.js';
import { replay } from '../../src/recorder/fplay.js';
import { openProcessRing } from '../../src/recorder/process-ring.js';
import { readRing } from '../../src/recorder/reader.js';
import type { Recorder } from '../../src/recorder/recorder.js';

const SLOTS_8MIB = 262144;
const RUNS = 7;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function scratchDir(): string {
  const base = process.env.TOTEM_RUN_DIR ?? (process.platform === 'linux' ? '/dev/shm' : tmpdir());
  return mkdtempSync(join(base, 'totem-bench-'));
}

/** The hot loop with a driver timestamp: the time is set once per 16 records (one input). */
function loopDriverTime(r: Recorder, n: number): void {
  for (let i = 0; i < n; i++) {
    if ((i & 15) === 0) r.setTime(i * 0.001);
    r.rec(EV.SRP_DELIVER, i, i + 1, i ^ 7, 3);
  }
}

function loopClockPerRecord(r: Recorder, n: number): void {
  for (let i = 0; i < n; i++) r.recNow(EV.SRP_DELIVER, i, i + 1, i ^ 7, 3);
}

function measure(variant: string, n: number): number {
  const dir = scratchDir();
  try {
    const mapped = variant.endsWith('-mapped');
    const ring = openProcessRing({
      nodeId: 1,
      runDir: dir,
      slots: SLOTS_8MIB,
      forceHeap: !mapped,
      log: () => {},
    });
    const loop = variant.startsWith('clock') ? loopClockPerRecord : loopDriverTime;
    const perRun = variant.startsWith('clock') ? Math.floor(n / 10) : n;
    loop(ring.recorder, perRun);
    loop(ring.recorder, perRun);
    const times: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      const t0 = process.hrtime.bigint();
      loop(ring.recorder, perRun);
      times.push(Number(process.hrtime.bigint() - t0) / perRun);
    }
    return median(times);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function measureDumpAndDecode(): {
  dumpMs: number;
  decodeRecordsPerSec: number;
  replayRecordsPerSec: number;
} {
  const dir = scratchDir();
  try {
    const ring = openProcessRing({ nodeId: 1, runDir: dir, slots: SLOTS_8MIB, log: () => {} });
    loopDriverTime(ring.recorder, SLOTS_8MIB * 2);
    const dumps: number[] = [];
    let path = '';
    for (let run = 0; run < RUNS; run++) {
      const t0 = process.hrtime.bigint();
      path = ring.dump(join(dir, `dump-${run}.ring`));
      dumps.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    const bytes = readFileSync(path);
    const decodes: number[] = [];
    const replays: number[] = [];
    for (let run = 0; run < 5; run++) {
      const t0 = process.hrtime.bigint();
      const img = readRing(bytes, path);
      const t1 = process.hrtime.bigint();
      decodes.push(img.records.count / (Number(t1 - t0) / 1e9));
      if (run < 2) {
        const lines = replay([img]);
        replays.push(lines.length / (Number(process.hrtime.bigint() - t1) / 1e9));
      }
    }
    return {
      dumpMs: median(dumps),
      decodeRecordsPerSec: median(decodes),
      replayRecordsPerSec: median(replays),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function child(kind: string, n: number): unknown {
  const self = fileURLToPath(import.meta.url);
  const r = spawnSync(process.execPath, [self, '--child', kind, '--records', String(n)], {
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`bench child ${kind} failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

function main(argv: string[]): void {
  const records = Number(argv[argv.indexOf('--records') + 1] ?? 0) || 20_000_000;
  const childAt = argv.indexOf('--child');
  if (childAt >= 0) {
    const kind = argv[childAt + 1]!;
    const result = kind === 'dump' ? measureDumpAndDecode() : measure(kind, records);
    process.stdout.write(JSON.stringify(result));
    return;
  }
  const result = {
    nsPerRecordDriverTimeHeap: child('driver-heap', records) as number,
    nsPerRecordDriverTimeMapped: child('driver-mapped', records) as number,
    nsPerRecordClockPerRecordMapped: child('clock-mapped', records) as number,
    ...(child('dump', records) as object),
    ringBytes: SLOTS_8MIB * 32,
    node: process.version,
  };
  if (argv.includes('--json')) {
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return;
  }
  const r = result as unknown as Record<string, number>;
  process.stdout.write(
    [
      'flight recorder (8 MiB ring, 262144 slots)',
      `  rec(), driver timestamp, heap ring      ${r.nsPerRecordDriverTimeHeap!.toFixed(2)} ns/record   (target <= 5)`,
      `  rec(), driver timestamp, mapped ring    ${r.nsPerRecordDriverTimeMapped!.toFixed(2)} ns/record   (target <= 5)`,
      `  recNow(), clock read per record, mapped ${r.nsPerRecordClockPerRecordMapped!.toFixed(2)} ns/record   (target <= 60)`,
      `  dump of the 8 MiB ring                  ${r.dumpMs!.toFixed(2)} ms`,
      `  fplay decode                            ${(r.decodeRecordsPerSec! / 1e6).toFixed(2)} M records/s (target >= 2)`,
      `  fplay decode + format text lines        ${(r.replayRecordsPerSec! / 1e6).toFixed(2)} M records/s`,
      '',
    ].join('\n'),
  );
}

main(process.argv.slice(2));
