/**
 * The table of a same-run comparison (bench/cpg/compare-corosync.sh): corosync 3.1.7's CPG as
 * measured by the anchor's bench.sh (its RESULT lines, one per node and run) beside this
 * engine's CPG as measured by daemon-cpg-bench (its --json output), row by row (size ×
 * senders), with ratios. Figures, never pass/fail.
 *
 *   node dist/bench/cpg/compare-corosync.js COROSYNC_OUTDIR TOTEM_JSON... [--transport udpu]
 *
 * Per corosync row: msgs/s and MB/s = mean over the 3 nodes, median over repetitions;
 * p50 = median over the receiving nodes' p50 (remote deliveries only), median over
 * repetitions; p99 = the worst receiving node's p99, worst repetition (the anchor's own
 * summarize.py rules). Per totem row: the bench's own figures (mean over nodes; latency
 * percentiles over every remote delivery of the window).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { transport: { type: 'string' } },
});
const TRANSPORT = values.transport ?? 'udpu';
const [corosyncDir, ...totemFiles] = positionals;
if (!corosyncDir || totemFiles.length === 0) {
  console.error('usage: compare-corosync.js COROSYNC_OUTDIR TOTEM_JSON... [--transport udpu]');
  process.exit(2);
}

interface Figures {
  msgsPerSec: number;
  mbPerSec: number;
  p50Ms: number;
  p99Ms: number;
}

interface TotemRun {
  inflight: number;
  rt?: boolean;
  rows: (Figures & {
    size: number;
    senders: number;
    ordered: boolean;
    daemonCpuUsPerMsg?: number;
    clientCpuUsPerMsg?: number;
  })[];
}

function median(xs: number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** corosync rows keyed "size/senders", plus whether every run passed its integrity checks. */
function corosyncRows(dir: string): { rows: Map<string, Figures & { reps: number }>; integrityOk: boolean } {
  const runs = new Map<string, Record<string, string>[]>();
  for (const line of readFileSync(join(dir, 'results.txt'), 'utf8').split('\n')) {
    if (!line.startsWith('RESULT ')) continue;
    const kv: Record<string, string> = {};
    for (const item of line.slice(7).split(' ')) {
      const eq = item.indexOf('=');
      if (eq > 0) kv[item.slice(0, eq)] = item.slice(eq + 1);
    }
    if (kv.transport !== TRANSPORT || !kv.label?.startsWith('tp-')) continue;
    const list = runs.get(kv.label) ?? [];
    list.push(kv);
    runs.set(kv.label, list);
  }
  const perRow = new Map<string, { msgs: number[]; mbs: number[]; p50: number[]; p99: number[] }>();
  let integrityOk = true;
  for (const [label, rs] of runs) {
    const m = /^tp-s(\d+)-k(\d+)-r\d+$/.exec(label);
    if (!m) continue;
    const hashes = new Set(rs.map((r) => r.order_hash));
    if (rs.length !== 3 || hashes.size !== 1 || rs.some((r) => r.gaps !== '0' || r.missing !== '0')) {
      integrityOk = false;
    }
    const key = `${m[1]}/${m[2]}`;
    const row = perRow.get(key) ?? { msgs: [], mbs: [], p50: [], p99: [] };
    const mean = (f: (r: Record<string, string>) => number) => rs.reduce((a, r) => a + f(r), 0) / rs.length;
    row.msgs.push(mean((r) => Number(r.win_msgs_per_s)));
    row.mbs.push(mean((r) => Number(r.win_MB_per_s)));
    const remote = rs.filter((r) => Number(r.lat_remote_n) > 0);
    row.p50.push(median(remote.map((r) => Number(r.lat_remote_p50_us) / 1000)));
    row.p99.push(Math.max(...remote.map((r) => Number(r.lat_remote_p99_us) / 1000)));
    perRow.set(key, row);
  }
  const rows = new Map<string, Figures & { reps: number }>();
  for (const [key, r] of perRow) {
    rows.set(key, {
      msgsPerSec: median(r.msgs),
      mbPerSec: median(r.mbs),
      p50Ms: median(r.p50),
      p99Ms: Math.max(...r.p99),
      reps: r.msgs.length,
    });
  }
  return { rows, integrityOk };
}

const f = (x: number | undefined, d = 0): string =>
  x !== undefined && Number.isFinite(x)
    ? x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d })
    : '-';
const ratio = (a: number, b: number): string =>
  Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(2)}×` : '-';

const corosync = corosyncRows(corosyncDir);
const totem = totemFiles.map((file) => JSON.parse(readFileSync(file, 'utf8')) as TotemRun);

console.log(
  '| size B | senders | totem run | totem msgs/s | corosync msgs/s | ratio msgs/s | totem MB/s | corosync MB/s | ' +
    'ratio MB/s | totem p50 ms | corosync p50 ms | ratio p50 | totem p99 ms | corosync p99 ms | ratio p99 | totem order ok | totem CPU µs/msg (daemons+client) |',
);
console.log(`|${' ---: |'.repeat(17)}`);
for (const run of totem) {
  for (const t of run.rows) {
    const c = corosync.rows.get(`${t.size}/${t.senders}`);
    console.log(
      `| ${t.size} | ${t.senders} | inflight ${run.inflight}${run.rt ? ', SCHED_RR' : ''} | ${f(t.msgsPerSec)} | ${f(c?.msgsPerSec)} | ` +
        `${ratio(t.msgsPerSec, c?.msgsPerSec ?? Number.NaN)} | ${f(t.mbPerSec, 2)} | ${f(c?.mbPerSec, 2)} | ` +
        `${ratio(t.mbPerSec, c?.mbPerSec ?? Number.NaN)} | ${f(t.p50Ms, 1)} | ${f(c?.p50Ms, 1)} | ` +
        `${ratio(t.p50Ms, c?.p50Ms ?? Number.NaN)} | ${f(t.p99Ms, 1)} | ${f(c?.p99Ms, 1)} | ` +
        `${ratio(t.p99Ms, c?.p99Ms ?? Number.NaN)} | ${t.ordered ? 'yes' : 'NO'} | ` +
        `${f(t.daemonCpuUsPerMsg)}+${f(t.clientCpuUsPerMsg)} |`,
    );
  }
}
console.log(
  `\nratios are totem / corosync: ≥ 1 is better for msgs/s and MB/s, ≤ 1 is better for latency. ` +
    `corosync ${TRANSPORT}: ${[...corosync.rows.values()][0]?.reps ?? 0} repetition(s) per row; ` +
    `integrity checks ${corosync.integrityOk ? 'passed' : 'FAILED'} on every corosync run.`,
);
