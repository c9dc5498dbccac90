/**
 * CPG as applications see it: 3 real daemons on loopback (udpu, no cipher), one Cpg client per
 * daemon joined to one group; 1 or 3 of them multicast (agreed) as fast as the daemon takes
 * messages for a window. Per node: delivered msgs/s and MB/s inside the window; latency =
 * delivery time − send time of other nodes' messages (all clients run in this process, so one
 * clock). Afterwards every client must have delivered every message in one order (checked).
 * Figures, never pass/fail.
 *
 * The corosync columns are RECORDED anchor figures (corosync 3.1.7, udpu, same machine type,
 * /work/shared/anchors/corosync/raw/<run>/summary.md), not measured in this run, and the
 * method differs (cpgperf: one process per node, one synchronous call per message, 10 s
 * windows); read the ratios as a rough comparison.
 *
 *   node dist/bench/cpg/daemon-cpg-bench.js [--sizes 64,1024,8192,65000] [--senders 1,3]
 *        [--seconds 5] [--inflight 16] [--token 1000] [--json]
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Cpg, type CpgMessage } from '../../src/client/index.js';
import {
  alive,
  findFreePorts,
  readPid,
  sleep,
  startNode,
  waitForRing,
  writeCluster,
} from '../../src/runtime/cluster.js';

const { values } = parseArgs({
  options: {
    sizes: { type: 'string' },
    senders: { type: 'string' },
    seconds: { type: 'string' },
    inflight: { type: 'string' },
    token: { type: 'string' },
    json: { type: 'boolean' },
    'profile-dir': { type: 'string' },
    netns: { type: 'string' },
    addresses: { type: 'string' },
    rt: { type: 'boolean' },
  },
});
const SIZES = (values.sizes ?? '64,1024,8192,65000').split(',').map(Number);
const SENDERS = (values.senders ?? '1,3').split(',').map(Number);
const SECONDS = Number(values.seconds ?? 5);
const INFLIGHT = Number(values.inflight ?? 16);
const TOKEN = Number(values.token ?? 1000);
const NODES = 3;
const GROUP = 'bench';
/** run u32, sender u32, seq u32, pad u32, send time f64. */
const HEADER = 24;
const ANCHOR_DIR = '/work/shared/anchors/corosync/raw';

interface Row {
  size: number;
  senders: number;
  msgsPerSec: number;
  mbPerSec: number;
  p50Ms: number;
  p99Ms: number;
  ordered: boolean;
  /** CPU of the 3 daemons together, per message sent (each is delivered on 3 nodes). */
  daemonCpuUsPerMsg: number;
  /** CPU of this process (the 3 clients), per message sent. */
  clientCpuUsPerMsg: number;
  /** read/write-family syscalls (unix-socket IPC; UDP sendmsg/recvmsg are not counted) per message sent. */
  ipcSyscallsPerMsg: { daemons: number; client: number };
  anchor?: { msgsPerSec: number; mbPerSec: number; p50Ms: number; p99Ms: number; source: string };
}

class Receiver {
  windowMsgs = 0;
  windowBytes = 0;
  delivered = 0;
  readonly latencies: number[] = [];
  hash = 0x811c9dc5;
  constructor(
    readonly node: number,
    readonly cpg: Cpg,
  ) {}
}

let run = 0;
let window: { start: number; end: number } = { start: 0, end: 0 };

function onMessage(r: Receiver, m: CpgMessage): void {
  if (m.group !== GROUP || m.data.length < HEADER) return;
  const view = new DataView(m.data.buffer, m.data.byteOffset, m.data.byteLength);
  if (view.getUint32(0, true) !== run) return;
  const now = performance.now();
  const sender = view.getUint32(4, true);
  const seq = view.getUint32(8, true);
  r.delivered++;
  r.hash = fnv(fnv(r.hash, sender), seq);
  if (now >= window.start && now < window.end) {
    r.windowMsgs++;
    r.windowBytes += m.data.length;
    if (sender !== r.node) r.latencies.push(now - view.getFloat64(16, true));
  }
}

function fnv(h: number, v: number): number {
  let x = h;
  for (let i = 0; i < 4; i++) {
    x ^= (v >>> (8 * i)) & 0xff;
    x = Math.imul(x, 0x01000193) >>> 0;
  }
  return x;
}

async function sender(r: Receiver, size: number, until: number): Promise<number> {
  let seq = 0;
  const sendOne = async (): Promise<void> => {
    const m = new Uint8Array(size);
    const view = new DataView(m.buffer);
    view.setUint32(0, run, true);
    view.setUint32(4, r.node, true);
    view.setUint32(8, ++seq, true);
    view.setFloat64(16, performance.now(), true);
    await r.cpg.send(GROUP, m);
  };
  const lanes = Array.from({ length: Math.max(1, INFLIGHT) }, async () => {
    while (performance.now() < until) await sendOne();
  });
  await Promise.all(lanes);
  return seq;
}

/** Kernel clock ticks per second of /proc/PID/stat times (USER_HZ, 100 on Linux). */
const USER_HZ = 100;

interface Usage {
  cpuUs: number;
  syscalls: number;
}

/** A process's CPU time and read/write-family syscall count so far (Linux /proc). */
function procUsage(pid: number | 'self'): Usage {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[11], fields[12] = utime, stime (fields 14 and 15 of stat(5), counted from 1).
    const ticks = Number(fields[11]) + Number(fields[12]);
    const io = readFileSync(`/proc/${pid}/io`, 'utf8');
    const num = (name: string) => Number(new RegExp(`^${name}: (\\d+)`, 'm').exec(io)?.[1] ?? 0);
    const cpuUs =
      pid === 'self' ? process.cpuUsage().user + process.cpuUsage().system : (ticks * 1e6) / USER_HZ;
    return { cpuUs, syscalls: num('syscr') + num('syscw') };
  } catch {
    return { cpuUs: Number.NaN, syscalls: Number.NaN };
  }
}

function sumUsage(pids: readonly (number | 'self')[]): Usage {
  return pids
    .map(procUsage)
    .reduce((a, u) => ({ cpuUs: a.cpuUs + u.cpuUs, syscalls: a.syscalls + u.syscalls }), {
      cpuUs: 0,
      syscalls: 0,
    });
}

function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

/** corosync's udpu throughput rows from the newest recorded anchor run (if present). */
function loadAnchor(): { rows: Map<string, Row['anchor']>; source: string } | undefined {
  if (!existsSync(ANCHOR_DIR)) return undefined;
  const runs = readdirSync(ANCHOR_DIR)
    .filter((d) => existsSync(join(ANCHOR_DIR, d, 'summary.md')))
    .sort();
  const newest = runs.at(-1);
  if (!newest) return undefined;
  const source = join(ANCHOR_DIR, newest, 'summary.md');
  const rows = new Map<string, Row['anchor']>();
  for (const line of readFileSync(source, 'utf8').split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    // | transport | size | senders | msgs/s | MB/s | range | p50 | p99 | ...
    if (cells[1] !== 'udpu' || cells.length < 10) continue;
    const num = (t: string | undefined) => Number((t ?? '').replace(/,/g, ''));
    const size = num(cells[2]);
    const senders = num(cells[3]);
    const msgs = num(cells[4]);
    if (!Number.isFinite(size) || !Number.isFinite(msgs) || rows.has(`${size}/${senders}`)) continue;
    rows.set(`${size}/${senders}`, {
      msgsPerSec: msgs,
      mbPerSec: num(cells[5]),
      p50Ms: num(cells[7]),
      p99Ms: num(cells[8]),
      source,
    });
  }
  return { rows, source };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'totem-cpgb-'));
  const basePort = await findFreePorts(NODES);
  const addresses = values.addresses?.split(',');
  const layout = await writeCluster({
    dir,
    size: NODES,
    basePort,
    token: TOKEN,
    crypto: 'none',
    ...(addresses ? { addresses } : {}),
  });
  const profile = values['profile-dir'];
  const nodeArgs = profile ? ['--cpu-prof', `--cpu-prof-dir=${profile}`] : [];
  const pids = layout.nodes.map((n) =>
    startNode(layout, n, process.env, {
      nodeArgs,
      prefix: [
        ...(values.rt ? ['chrt', '-r', '99'] : []),
        ...(values.netns ? ['ip', 'netns', 'exec', `${values.netns}${n}`] : []),
      ],
    }),
  );
  const receivers: Receiver[] = [];
  const rows: Row[] = [];
  try {
    if (!(await waitForRing(layout, layout.nodes, 15_000))) throw new Error('the daemons formed no ring');
    for (const n of layout.nodes) {
      const cpg = await Cpg.connect({ socket: layout.ipcSocket(n), name: `bench ${n}`, reconnect: false });
      const r = new Receiver(n, cpg);
      cpg.on('message', (m) => onMessage(r, m));
      await cpg.join(GROUP);
      receivers.push(r);
    }
    for (;;) {
      const members = await receivers[0]!.cpg.members(GROUP);
      if (members.length === NODES) break;
      await sleep(50);
    }
    const anchor = loadAnchor();
    for (const size of SIZES) {
      for (const k of SENDERS) {
        run++;
        for (const r of receivers) {
          r.windowMsgs = 0;
          r.windowBytes = 0;
          r.delivered = 0;
          r.latencies.length = 0;
          r.hash = 0x811c9dc5;
        }
        const start = performance.now() + 200;
        window = { start, end: start + SECONDS * 1000 };
        const daemons0 = sumUsage(pids);
        const client0 = procUsage('self');
        const sent = await Promise.all(receivers.slice(0, k).map((r) => sender(r, size, window.end)));
        const total = sent.reduce((a, b) => a + b, 0);
        const drainUntil = performance.now() + 30_000;
        while (receivers.some((r) => r.delivered < total) && performance.now() < drainUntil) await sleep(20);
        const daemons1 = sumUsage(pids);
        const client1 = procUsage('self');
        const ordered =
          receivers.every((r) => r.delivered === total) && new Set(receivers.map((r) => r.hash)).size === 1;
        const mean = (f: (r: Receiver) => number) =>
          receivers.reduce((a, r) => a + f(r), 0) / receivers.length;
        const lat = receivers.flatMap((r) => r.latencies);
        rows.push({
          size,
          senders: k,
          msgsPerSec: mean((r) => r.windowMsgs) / SECONDS,
          mbPerSec: mean((r) => r.windowBytes) / SECONDS / 1e6,
          p50Ms: percentile(lat, 50),
          p99Ms: percentile(lat, 99),
          ordered,
          daemonCpuUsPerMsg: (daemons1.cpuUs - daemons0.cpuUs) / total,
          clientCpuUsPerMsg: (client1.cpuUs - client0.cpuUs) / total,
          ipcSyscallsPerMsg: {
            daemons: (daemons1.syscalls - daemons0.syscalls) / total,
            client: (client1.syscalls - client0.syscalls) / total,
          },
          ...(anchor?.rows.get(`${size}/${k}`) ? { anchor: anchor.rows.get(`${size}/${k}`)! } : {}),
        });
      }
    }
    print(rows, anchor?.source);
  } finally {
    for (const r of receivers) await r.cpg.close();
    for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGTERM');
    const deadline = Date.now() + 5000;
    while (layout.nodes.some((n) => alive(readPid(layout, n) ?? 0)) && Date.now() < deadline) await sleep(50);
    for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

function print(rows: Row[], anchorSource: string | undefined): void {
  if (values.json) {
    console.log(JSON.stringify({ seconds: SECONDS, inflight: INFLIGHT, token: TOKEN, anchorSource, rows }));
    return;
  }
  const f = (x: number, d = 0) =>
    Number.isFinite(x)
      ? x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d })
      : '-';
  console.log(
    `daemon CPG: 3 daemons on 127.0.0.1 (udpu, no cipher, token ${TOKEN} ms), one client per daemon in this ` +
      `process, ${SECONDS} s window, ${INFLIGHT} sends in flight per sender, agreed; ${cpus().length} cores`,
  );
  console.log(
    'size B | senders | msgs/s per node | MB/s per node | lat p50 ms | lat p99 ms | order ok | ' +
      'CPU µs/msg daemons+client | IPC syscalls/msg daemons+client || ' +
      'corosync* msgs/s | MB/s | p50 ms | p99 ms || ratio msgs/s (totem/corosync)',
  );
  for (const r of rows) {
    const a = r.anchor;
    console.log(
      [
        r.size,
        r.senders,
        f(r.msgsPerSec),
        f(r.mbPerSec, 2),
        f(r.p50Ms, 1),
        f(r.p99Ms, 1),
        r.ordered ? 'yes' : 'NO',
        `${f(r.daemonCpuUsPerMsg)}+${f(r.clientCpuUsPerMsg)}`,
        `${f(r.ipcSyscallsPerMsg.daemons, 1)}+${f(r.ipcSyscallsPerMsg.client, 1)}`,
      ].join(' | ') +
        ' || ' +
        (a
          ? [f(a.msgsPerSec), f(a.mbPerSec, 2), f(a.p50Ms, 1), f(a.p99Ms, 1)].join(' | ')
          : '- | - | - | -') +
        ' || ' +
        (a ? `${(r.msgsPerSec / a.msgsPerSec).toFixed(2)}×` : '-'),
    );
  }
  console.log(
    anchorSource
      ? `* corosync 3.1.7 udpu: RECORDED anchor figures from ${anchorSource} (median of 3 runs, 10 s windows, ` +
          'cpgperf with one synchronous call per message), not measured in this run.'
      : '* no corosync anchor figures found',
  );
}

await main();
