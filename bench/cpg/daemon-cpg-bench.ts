/**
 * CPG as applications see it: 3 real daemons (udpu, no cipher), one Cpg client per daemon,
 * each in a process of its own (as the corosync anchor runs one cpgperf per node), joined to
 * one group; 1 or 3 of them multicast (agreed) as fast as the daemon takes messages for a
 * window, INFLIGHT sends awaiting at a time (1 = one send at a time, as cpgperf's synchronous
 * cpg_mcast_joined). Per node: delivered msgs/s and MB/s inside the window; latency =
 * delivery time − send time of other nodes' messages (performance.timeOrigin + now(): one
 * clock for the processes of this machine). Afterwards every client must have delivered
 * every message in one order (checked). Also per message: the CPU the 3 daemons and the 3
 * clients used, and their read/write-family syscalls (/proc). Figures, never pass/fail.
 *
 * By default the daemons run on 127.0.0.1; --netns csan --addresses 10.99.0.1,10.99.0.2,10.99.0.3
 * puts daemon N in the network namespace csanN (made by the corosync anchor's lib.sh; see
 * compare-corosync.sh), --rt runs them under SCHED_RR 99 as corosync runs itself.
 *
 * The corosync columns printed here are RECORDED anchor figures (corosync 3.1.7, udpu,
 * /work/shared/anchors/corosync/raw/<run>/summary.md), not measured in this run; for a
 * same-run comparison use bench/cpg/compare-corosync.sh.
 *
 *   node dist/bench/cpg/daemon-cpg-bench.js [--sizes 64,1024,8192,65000] [--senders 1,3]
 *        [--seconds 5] [--inflight 1] [--token 1000] [--json] [--rt] [--profile-dir DIR]
 *        [--netns PREFIX --addresses A1,A2,A3]
 */
import { type ChildProcess, fork } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
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
    worker: { type: 'string' },
    socket: { type: 'string' },
  },
});
const SIZES = (values.sizes ?? '64,1024,8192,65000').split(',').map(Number);
const SENDERS = (values.senders ?? '1,3').split(',').map(Number);
const SECONDS = Number(values.seconds ?? 5);
const INFLIGHT = Number(values.inflight ?? 1);
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

/** ms since the epoch, sub-µs resolution, the same clock in every process of this machine. */
function epochNow(): number {
  return performance.timeOrigin + performance.now();
}

function fnv(h: number, v: number): number {
  let x = h;
  for (let i = 0; i < 4; i++) {
    x ^= (v >>> (8 * i)) & 0xff;
    x = Math.imul(x, 0x01000193) >>> 0;
  }
  return x;
}

type ToWorker =
  | { type: 'run'; run: number; size: number; send: boolean; start: number; end: number }
  | { type: 'drain'; total: number }
  | { type: 'close' };

type FromWorker =
  | { type: 'ready' }
  | { type: 'sent'; count: number }
  | {
      type: 'result';
      delivered: number;
      hash: number;
      windowMsgs: number;
      windowBytes: number;
      latencies: Float64Array;
    };

/**
 * One node's client, in a process of its own (as the anchor runs one cpgperf per node): joins
 * the group, then for each run counts and hashes every delivery, and sends if told to.
 */
async function worker(node: number, socket: string): Promise<void> {
  const post = (m: FromWorker) => process.send!(m);
  const retryMax = process.env.BENCH_RETRY_MAX_MS;
  const cpg = await Cpg.connect({
    socket,
    name: `bench ${node}`,
    reconnect: false,
    ...(retryMax ? { retry: { maxDelayMs: Number(retryMax), attempts: 100_000 } } : {}),
  });
  let run = 0;
  let window = { start: 0, end: 0 };
  let delivered = 0;
  let hash = 0x811c9dc5;
  let windowMsgs = 0;
  let windowBytes = 0;
  let latencies: number[] = [];
  cpg.on('message', (m: CpgMessage) => {
    if (m.group !== GROUP || m.data.length < HEADER) return;
    const view = new DataView(m.data.buffer, m.data.byteOffset, m.data.byteLength);
    if (view.getUint32(0, true) !== run) return;
    const now = epochNow();
    const sender = view.getUint32(4, true);
    delivered++;
    hash = fnv(fnv(hash, sender), view.getUint32(8, true));
    if (now >= window.start && now < window.end) {
      windowMsgs++;
      windowBytes += m.data.length;
      if (sender !== node) latencies.push(now - view.getFloat64(16, true));
    }
  });
  await cpg.join(GROUP);
  while ((await cpg.members(GROUP)).length < NODES) await sleep(50);
  post({ type: 'ready' });
  process.on('message', (msg: ToWorker) => {
    void (async () => {
      if (msg.type === 'close') {
        await cpg.close();
        process.exit(0);
      }
      if (msg.type === 'run') {
        run = msg.run;
        window = { start: msg.start, end: msg.end };
        delivered = 0;
        hash = 0x811c9dc5;
        windowMsgs = 0;
        windowBytes = 0;
        latencies = [];
        await sleep(Math.max(0, msg.start - 200 - epochNow()));
        post({ type: 'sent', count: msg.send ? await sendUntil(cpg, node, run, msg.size, msg.end) : 0 });
        return;
      }
      const until = epochNow() + 30_000;
      while (delivered < msg.total && epochNow() < until) await sleep(20);
      post({
        type: 'result',
        delivered,
        hash,
        windowMsgs,
        windowBytes,
        latencies: Float64Array.from(latencies),
      });
    })();
  });
}

/** Multicasts `size`-byte messages with INFLIGHT sends awaiting at a time until `until`. */
async function sendUntil(cpg: Cpg, node: number, run: number, size: number, until: number): Promise<number> {
  let seq = 0;
  const sendOne = async (): Promise<void> => {
    const m = new Uint8Array(size);
    const view = new DataView(m.buffer);
    view.setUint32(0, run, true);
    view.setUint32(4, node, true);
    view.setUint32(8, ++seq, true);
    view.setFloat64(16, epochNow(), true);
    await cpg.send(GROUP, m);
  };
  const lanes = Array.from({ length: Math.max(1, INFLIGHT) }, async () => {
    while (epochNow() < until) await sendOne();
  });
  await Promise.all(lanes);
  return seq;
}

/** The coordinator's handle on one worker process. */
class Worker {
  private readonly waiting: ((m: FromWorker) => void)[] = [];
  constructor(readonly child: ChildProcess) {
    child.on('message', (m: FromWorker) => this.waiting.shift()?.(m));
  }
  next<T extends FromWorker['type']>(type: T): Promise<Extract<FromWorker, { type: T }>> {
    return new Promise((resolve, reject) => {
      const onExit = () => reject(new Error(`bench worker ${this.child.pid} exited`));
      this.child.once('exit', onExit);
      this.waiting.push((m) => {
        this.child.off('exit', onExit);
        if (m.type !== type) reject(new Error(`expected ${type} from a bench worker, got ${m.type}`));
        else resolve(m as Extract<FromWorker, { type: T }>);
      });
    });
  }
  tell(m: ToWorker): void {
    this.child.send(m);
  }
}

/** Kernel clock ticks per second of /proc/PID/stat times (USER_HZ, 100 on Linux). */
const USER_HZ = 100;

interface Usage {
  cpuUs: number;
  syscalls: number;
}

/** A process's CPU time and read/write-family syscall count so far (Linux /proc). */
function procUsage(pid: number): Usage {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[11], fields[12] = utime, stime (fields 14 and 15 of stat(5), counted from 1).
    const ticks = Number(fields[11]) + Number(fields[12]);
    const io = readFileSync(`/proc/${pid}/io`, 'utf8');
    const num = (name: string) => Number(new RegExp(`^${name}: (\\d+)`, 'm').exec(io)?.[1] ?? 0);
    return { cpuUs: (ticks * 1e6) / USER_HZ, syscalls: num('syscr') + num('syscw') };
  } catch {
    return { cpuUs: Number.NaN, syscalls: Number.NaN };
  }
}

function sumUsage(pids: readonly number[]): Usage {
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
  const workers: Worker[] = [];
  const rows: Row[] = [];
  try {
    if (!(await waitForRing(layout, layout.nodes, 15_000))) throw new Error('the daemons formed no ring');
    const self = fileURLToPath(import.meta.url);
    for (const n of layout.nodes) {
      const child = fork(
        self,
        ['--worker', String(n), '--socket', layout.ipcSocket(n), '--inflight', String(INFLIGHT)],
        {
          serialization: 'advanced',
          execArgv: profile ? ['--cpu-prof', `--cpu-prof-dir=${profile}`] : [],
        },
      );
      workers.push(new Worker(child));
    }
    await Promise.all(workers.map((w) => w.next('ready')));
    const clientPids = workers.map((w) => w.child.pid!);
    const anchor = loadAnchor();
    let run = 0;
    for (const size of SIZES) {
      for (const k of SENDERS) {
        run++;
        const start = epochNow() + 300;
        const end = start + SECONDS * 1000;
        const daemons0 = sumUsage(pids);
        const clients0 = sumUsage(clientPids);
        workers.forEach((w, i) => {
          w.tell({ type: 'run', run, size, send: i < k, start, end });
        });
        const sent = await Promise.all(workers.map((w) => w.next('sent')));
        const total = sent.reduce((a, m) => a + m.count, 0);
        const results = workers.map((w) => w.next('result'));
        for (const w of workers) w.tell({ type: 'drain', total });
        const res = await Promise.all(results);
        const daemons1 = sumUsage(pids);
        const clients1 = sumUsage(clientPids);
        const ordered = res.every((r) => r.delivered === total) && new Set(res.map((r) => r.hash)).size === 1;
        const mean = (f: (r: (typeof res)[number]) => number) =>
          res.reduce((a, r) => a + f(r), 0) / res.length;
        const lat = res.flatMap((r) => [...r.latencies]);
        rows.push({
          size,
          senders: k,
          msgsPerSec: mean((r) => r.windowMsgs) / SECONDS,
          mbPerSec: mean((r) => r.windowBytes) / SECONDS / 1e6,
          p50Ms: percentile(lat, 50),
          p99Ms: percentile(lat, 99),
          ordered,
          daemonCpuUsPerMsg: (daemons1.cpuUs - daemons0.cpuUs) / total,
          clientCpuUsPerMsg: (clients1.cpuUs - clients0.cpuUs) / total,
          ipcSyscallsPerMsg: {
            daemons: (daemons1.syscalls - daemons0.syscalls) / total,
            client: (clients1.syscalls - clients0.syscalls) / total,
          },
          ...(anchor?.rows.get(`${size}/${k}`) ? { anchor: anchor.rows.get(`${size}/${k}`)! } : {}),
        });
      }
    }
    print(rows, anchor?.source);
  } finally {
    for (const w of workers) {
      if (w.child.exitCode === null) w.tell({ type: 'close' });
    }
    const closing = Date.now() + 5000;
    while (workers.some((w) => w.child.exitCode === null) && Date.now() < closing) await sleep(50);
    for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGKILL');
    for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGTERM');
    const deadline = Date.now() + 5000;
    while (layout.nodes.some((n) => alive(readPid(layout, n) ?? 0)) && Date.now() < deadline) await sleep(50);
    for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

function print(rows: Row[], anchorSource: string | undefined): void {
  if (values.json) {
    console.log(
      JSON.stringify({
        seconds: SECONDS,
        inflight: INFLIGHT,
        token: TOKEN,
        rt: values.rt ?? false,
        netns: values.netns ?? null,
        anchorSource,
        rows,
      }),
    );
    return;
  }
  const f = (x: number, d = 0) =>
    Number.isFinite(x)
      ? x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d })
      : '-';
  console.log(
    `daemon CPG: 3 daemons on ${values.addresses ?? '127.0.0.1'}${values.netns ? ` (network namespaces ${values.netns}1..3)` : ''}` +
      `${values.rt ? ' under SCHED_RR 99' : ''} (udpu, no cipher, token ${TOKEN} ms), one client process per ` +
      `daemon, ${SECONDS} s window, ${INFLIGHT} sends in flight per sender, agreed; ${cpus().length} cores`,
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

if (values.worker) await worker(Number(values.worker), values.socket!);
else await main();
