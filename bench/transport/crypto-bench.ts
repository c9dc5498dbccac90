/**
 * Envelope cost per packet: seal (encrypt) and open (decrypt + authenticate) for each
 * cipher over typical totem packet sizes. Figures, never pass/fail.
 *
 *   node dist/bench/transport/crypto-bench.js [--json] [--ms N] [--sizes 64,512,1400]
 *
 * Each case runs for about N ms (default 400) after a warm-up; the figure is the median of
 * five such runs, so a busy neighbour on a shared machine skews it less.
 */
import { randomBytes } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { type CipherName, Envelope } from '../../src/transport/crypto.js';

interface Row {
  cipher: CipherName;
  bytes: number;
  sealNs: number;
  openNs: number;
  roundTripNs: number;
  /** Payload bytes through seal+open per second, MB = 10^6 bytes. */
  mbPerSec: number;
  packetsPerSec: number;
}

const { values } = parseArgs({
  options: {
    json: { type: 'boolean' },
    ms: { type: 'string' },
    sizes: { type: 'string' },
  },
});
const budgetMs = Number(values.ms ?? 400);
const sizes = (values.sizes ?? '64,128,256,512,1024,1400').split(',').map(Number);
const ciphers: CipherName[] = ['aes256', 'chacha20', 'none'];
const key = randomBytes(128);

function envelopes(cipher: CipherName): [Envelope, Envelope] {
  if (cipher === 'none') return [Envelope.plain(1), Envelope.plain(2)];
  return [
    Envelope.sealed({ cipher, key, clusterName: 'bench', localNodeId: 1 }),
    Envelope.sealed({ cipher, key, clusterName: 'bench', localNodeId: 2 }),
  ];
}

/** ns per call of fn, timed in batches until the budget is spent. */
function time(fn: () => void, ms: number): number {
  let calls = 0;
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    for (let i = 0; i < 256; i++) fn();
    calls += 256;
    now = performance.now();
  }
  return ((now - start) * 1e6) / calls;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const loadBefore = loadavg()[0]!;
const rows: Row[] = [];
for (const cipher of ciphers) {
  const [a, b] = envelopes(cipher);
  for (const bytes of sizes) {
    const payload = randomBytes(bytes);
    const packet = a.seal(payload);
    time(() => b.open(a.seal(payload)), 50);
    const seal: number[] = [];
    const open: number[] = [];
    for (let run = 0; run < 5; run++) {
      seal.push(time(() => a.seal(payload), budgetMs / 10));
      open.push(time(() => b.open(packet), budgetMs / 10));
    }
    const sealNs = median(seal);
    const openNs = median(open);
    const roundTripNs = sealNs + openNs;
    rows.push({
      cipher,
      bytes,
      sealNs: Math.round(sealNs),
      openNs: Math.round(openNs),
      roundTripNs: Math.round(roundTripNs),
      mbPerSec: Number(((bytes * 1e9) / roundTripNs / 1e6).toFixed(1)),
      packetsPerSec: Math.round(1e9 / roundTripNs),
    });
  }
}

if (values.json) {
  process.stdout.write(
    `${JSON.stringify(
      {
        bench: 'transport/crypto',
        node: process.version,
        arch: process.arch,
        cpus: cpus().length,
        loadAverage1m: { before: loadBefore, after: loadavg()[0] },
        budgetMs,
        rows,
      },
      null,
      2,
    )}\n`,
  );
} else {
  const head = ['cipher', 'bytes', 'seal ns', 'open ns', 'seal+open ns', 'MB/s', 'pkts/s'];
  const lines = rows.map((r) =>
    [r.cipher, r.bytes, r.sealNs, r.openNs, r.roundTripNs, r.mbPerSec, r.packetsPerSec].map(String),
  );
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const fmt = (cells: string[]): string =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  process.stdout.write(`${fmt(head)}\n${lines.map(fmt).join('\n')}\n`);
  process.stdout.write(
    `(median of 5 runs per case; ${process.version} ${process.arch}, ${cpus().length} CPUs, ` +
      `1-min load ${loadBefore.toFixed(1)} before, ${loadavg()[0]!.toFixed(1)} after; MB = 10^6 bytes of payload)\n`,
  );
}
