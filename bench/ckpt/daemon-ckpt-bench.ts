/**
 * Checkpoints as applications see them: real daemons on loopback (udpu, no cipher), Ckpt
 * clients in this process, one per node. Figures, never pass/fail (the data checks below only
 * say whether a figure can be trusted).
 *
 * 1. Writes and reads on 3 daemons: for each section size, 1 and 3 writers (each a client on
 *    its own node, its own checkpoint) issue `write` (one element at offset 0) or `overwrite`
 *    as fast as the daemon answers, `--inflight` calls in flight per client, for `--seconds`;
 *    then 1 and 3 readers read sections of that size from their own node's replica. ops/s
 *    summed over clients; latency = call to answer, p50/p99 over every call in the window.
 * 2. Sync to a joining node: a fresh cluster of 2 daemons gets `--ckpts` checkpoints ×
 *    `--sections` sections of `--sync-size` bytes through clients on both nodes; then node 3
 *    starts empty. Times from its spawn to: answering status, its regular configuration with
 *    3 members, and its replica holding everything (sync round done and the checkpoint count
 *    reached; status polled every 20 ms). The round's duration on node 3 comes from its
 *    flight recorder (SYNC_ROUND_START → SYNC_ROUND_DONE, CKPT_SYNC_INIT → CKPT_SYNC_ACTIVATE).
 *    Completeness is checked through a client on node 3: the checkpoint list (names,
 *    section counts, bytes) equals node 1's, and a sample of checkpoints read back to the byte.
 *    RSS of the joiner and of the sender after the sync (/proc/PID/status).
 *
 *   node dist/bench/ckpt/daemon-ckpt-bench.js [--sizes 64,1024,16384] [--clients 1,3]
 *        [--seconds 3] [--inflight 16] [--ckpts 10000] [--sections 10] [--sync-size 100]
 *        [--only io|sync] [--cpu-prof DIR] [--keep] [--json]
 *
 * --keep leaves the clusters' directories (configs, logs, recorder rings) in place.
 * --cpu-prof DIR runs the sync part's daemons with `node --cpu-prof` (profiles in DIR, written
 * when they stop).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { type CheckpointHandle, Ckpt } from '../../src/client/index.js';
import type { NodeId } from '../../src/core/io.js';
import { EV } from '../../src/recorder/events/index.js';
import { readRing } from '../../src/recorder/reader.js';
import {
  alive,
  type ClusterLayout,
  findFreePorts,
  nodeStatus,
  readPid,
  sleep,
  startNode,
  waitForRing,
  writeCluster,
} from '../../src/runtime/cluster.js';
import type { NodeStatus } from '../../src/runtime/node-runtime.js';

const { values } = parseArgs({
  options: {
    sizes: { type: 'string' },
    clients: { type: 'string' },
    seconds: { type: 'string' },
    inflight: { type: 'string' },
    ckpts: { type: 'string' },
    sections: { type: 'string' },
    'sync-size': { type: 'string' },
    only: { type: 'string' },
    'cpu-prof': { type: 'string' },
    json: { type: 'boolean' },
    keep: { type: 'boolean' },
  },
});
const SIZES = (values.sizes ?? '64,1024,16384').split(',').map(Number);
const CLIENTS = (values.clients ?? '1,3').split(',').map(Number);
const SECONDS = Number(values.seconds ?? 3);
const INFLIGHT = Number(values.inflight ?? 16);
const CKPTS = Number(values.ckpts ?? 10_000);
const SECTIONS = Number(values.sections ?? 10);
const SYNC_SIZE = Number(values['sync-size'] ?? 100);
const CPU_PROF = values['cpu-prof'] ? resolve(values['cpu-prof']) : undefined;
const TOKEN = 1000;
/** Sections per checkpoint in the write/read part (lanes spread over them). */
const IO_SECTIONS = 16;
/** Checkpoints read back byte for byte on the joiner. */
const SAMPLE = 200;

interface Cluster {
  readonly layout: ClusterLayout;
  readonly pids: number[];
  readonly clients: Ckpt[];
}

async function cluster(size: number, start: readonly NodeId[], prefix: string): Promise<Cluster> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const basePort = await findFreePorts(size);
  const layout = await writeCluster({ dir, size, basePort, token: TOKEN, crypto: 'none' });
  const c: Cluster = { layout, pids: [], clients: [] };
  for (const n of start) c.pids.push(startDaemon(layout, n));
  if (!(await waitForRing(layout, start, 20_000))) {
    await teardown(c);
    throw new Error(`nodes [${start}] formed no ring`);
  }
  return c;
}

/** startNode, with --cpu-prof under `node --cpu-prof` (not allowed in NODE_OPTIONS). */
function startDaemon(layout: ClusterLayout, n: NodeId): number {
  const nodeArgs = CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${CPU_PROF}`] : [];
  return startNode(layout, n, process.env, { nodeArgs });
}

async function connect(c: Cluster, n: NodeId): Promise<Ckpt> {
  const ckpt = await Ckpt.connect({ socket: c.layout.ipcSocket(n), name: `ckpt bench on ${n}` });
  c.clients.push(ckpt);
  return ckpt;
}

async function teardown(c: Cluster): Promise<void> {
  for (const k of c.clients) await k.close();
  const pids = c.layout.nodes.map((n) => readPid(c.layout, n)).filter((p): p is number => p !== undefined);
  for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGTERM');
  // Profiles are written at exit: give the daemons time to leave and write them.
  const deadline = Date.now() + (CPU_PROF ? 30_000 : 5000);
  while (pids.some(alive) && Date.now() < deadline) await sleep(50);
  for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
  if (values.keep) console.log(`kept ${c.layout.dir}`);
  else rmSync(c.layout.dir, { recursive: true, force: true });
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Bytes of section `j` of checkpoint `i` (what the sync part writes and reads back). */
function syncData(i: number, j: number): Uint8Array {
  const d = new Uint8Array(SYNC_SIZE);
  let x = (Math.imul(i + 1, 0x9e3779b1) ^ Math.imul(j + 1, 0x85ebca6b)) >>> 0;
  for (let k = 0; k < d.length; k++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    d[k] = x >>> 24;
  }
  return d;
}

// ---- part 1: writes and reads on 3 daemons --------------------------------------------------

type Op = 'write' | 'overwrite' | 'read';

interface IoRow {
  op: Op;
  size: number;
  clients: number;
  opsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
}

interface Worker {
  readonly node: NodeId;
  readonly ckpt: Ckpt;
  readonly handle: CheckpointHandle;
}

async function runWindow(workers: readonly Worker[], op: Op, size: number): Promise<IoRow> {
  const payload = new Uint8Array(size).fill(0x5a);
  const latencies: number[] = [];
  let done = 0;
  let errors = 0;
  const start = performance.now() + 100;
  const end = start + SECONDS * 1000;
  const call = (w: Worker, section: string): Promise<unknown> => {
    if (op === 'write') return w.handle.write(section, payload);
    if (op === 'overwrite') return w.handle.overwrite(section, payload);
    return w.handle.read(section, { size });
  };
  const lane = async (w: Worker, laneIndex: number): Promise<void> => {
    const section = `s${laneIndex % IO_SECTIONS}`;
    for (;;) {
      const t = performance.now();
      if (t >= end) return;
      try {
        await call(w, section);
      } catch {
        errors++;
        continue;
      }
      const after = performance.now();
      if (t >= start && after < end) {
        done++;
        latencies.push(after - t);
      }
    }
  };
  await Promise.all(workers.flatMap((w) => Array.from({ length: INFLIGHT }, (_, i) => lane(w, i))));
  const sorted = Float64Array.from(latencies).sort();
  return {
    op,
    size,
    clients: workers.length,
    opsPerSec: done / SECONDS,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    errors,
  };
}

async function ioPart(): Promise<IoRow[]> {
  const c = await cluster(3, [1, 2, 3], 'totem-ckb-');
  const rows: IoRow[] = [];
  try {
    const clients = await Promise.all([1, 2, 3].map((n) => connect(c, n)));
    for (const size of SIZES) {
      // Each node's writer has its own checkpoint; every node's reader reads its own replica of it.
      const workers: Worker[] = [];
      for (const [i, ckpt] of clients.entries()) {
        const handle = await ckpt.open(`io-${size}-${i + 1}`, {
          create: { maxSections: IO_SECTIONS, maxSectionSize: size, checkpointSize: IO_SECTIONS * size },
        });
        await Promise.all(
          Array.from({ length: IO_SECTIONS }, (_, s) => handle.createSection(`s${s}`, new Uint8Array(size))),
        );
        workers.push({ node: i + 1, ckpt, handle });
      }
      for (const op of ['write', 'overwrite', 'read'] as const)
        for (const k of CLIENTS) rows.push(await runWindow(workers.slice(0, k), op, size));
      for (const w of workers) await w.handle.close();
    }
  } finally {
    await teardown(c);
  }
  return rows;
}

// ---- part 2: sync to a joining node ---------------------------------------------------------

interface SyncResult {
  checkpoints: number;
  sectionsPerCheckpoint: number;
  sectionSize: number;
  setupSeconds: number;
  setupUpdatesPerSec: number;
  spawnToStatusMs: number;
  spawnToConfigurationMs: number;
  spawnToSyncedMs: number;
  configurationToSyncedMs: number;
  daemonStartToConfigurationMs: number | undefined;
  recorderRoundMs: number | undefined;
  recorderCkptSyncMs: number | undefined;
  joinerRssMiB: number;
  senderRssMiB: number;
  listMatches: boolean;
  sampledCheckpoints: number;
  sampleMatches: boolean;
  totalSections: number;
  /** What the ring did from node 3's spawn to its replica being complete (sender's counters). */
  ring: Record<string, number>;
  /** Node 3's sync rounds (a configuration change restarts a round from the beginning). */
  joinerRounds: { started: number; completed: number; aborted: number };
}

/** Counters of node 1 that explain a sync's pace, as `after - before`. */
function ringDelta(before: NodeStatus, after: NodeStatus): Record<string, number> {
  const d = (f: (s: NodeStatus) => number) => f(after) - f(before);
  return {
    tokenRotations: d((s) => s.srp.tokenRotations),
    messagesOriginated: d((s) => s.srp.messagesOriginated),
    retransmits: d((s) => s.srp.retransmits),
    tokenLosses: d((s) => s.srp.tokenLosses),
    configurationChanges: d((s) => s.srp.configurationChanges),
    pgMessagesSent: d((s) => s.pg.messagesSent),
    pgFramesSent: d((s) => s.pg.framesSent),
  };
}

/** Creates checkpoints `from, from + step, …` with their sections through one client, `lanes` at a time. */
async function fill(ckpt: Ckpt, from: number, step: number, lanes: number): Promise<void> {
  let next = from;
  const lane = async (): Promise<void> => {
    for (;;) {
      const i = next;
      if (i >= CKPTS) return;
      next += step;
      const h = await ckpt.open(`ck-${i}`, {
        create: {
          maxSections: SECTIONS,
          maxSectionSize: Math.max(SYNC_SIZE, 1),
          checkpointSize: SECTIONS * Math.max(SYNC_SIZE, 1),
        },
      });
      await Promise.all(
        Array.from({ length: SECTIONS }, (_, j) => h.createSection(`sec-${j}`, syncData(i, j))),
      );
      await h.close();
    }
  };
  await Promise.all(Array.from({ length: lanes }, lane));
}

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

/** The last sync round on a ring of `members` nodes in the node's recorder (undefined: overwritten). */
function recorderDurations(path: string, members: number): { round?: number; ckpt?: number } {
  const image = readRing(new Uint8Array(readFileSync(path)), path);
  const { count, event, ts, args } = image.records;
  let roundStart: { seq: number; ts: number } | undefined;
  let round: number | undefined;
  let ckptInit: number | undefined;
  let ckpt: number | undefined;
  for (let i = 0; i < count; i++) {
    const e = event[i]!;
    const a = (k: number) => args[i * 8 + k]!;
    if (e === EV.SYNC_ROUND_START && a(2) === members) roundStart = { seq: a(1), ts: ts[i]! };
    else if (e === EV.SYNC_ROUND_DONE && roundStart && a(1) === roundStart.seq)
      round = ts[i]! - roundStart.ts;
    else if (e === EV.CKPT_SYNC_INIT && roundStart && a(0) === roundStart.seq) ckptInit = ts[i]!;
    else if (e === EV.CKPT_SYNC_ACTIVATE && ckptInit !== undefined) {
      ckpt = ts[i]! - ckptInit;
      ckptInit = undefined;
    }
  }
  return { ...(round === undefined ? {} : { round }), ...(ckpt === undefined ? {} : { ckpt }) };
}

async function syncPart(): Promise<SyncResult> {
  if (CPU_PROF) mkdirSync(CPU_PROF, { recursive: true });
  const c = await cluster(3, [1, 2], 'totem-cks-');
  try {
    const writers = await Promise.all([1, 2].map((n) => connect(c, n)));
    let t0 = performance.now();
    await Promise.all(writers.map((w, i) => fill(w, i, writers.length, 32)));
    const setupSeconds = (performance.now() - t0) / 1000;
    const before = await nodeStatus(c.layout, 1);
    if (before?.ckpt.checkpoints !== CKPTS)
      throw new Error(`node 1 holds ${before?.ckpt.checkpoints} checkpoints`);

    t0 = performance.now();
    c.pids.push(startDaemon(c.layout, 3));
    let statusAt: number | undefined;
    let confAt: number | undefined;
    let confAtMs: number | undefined;
    let syncedAt: number | undefined;
    let last: NodeStatus | undefined;
    const deadline = t0 + 600_000;
    while (syncedAt === undefined) {
      if (performance.now() > deadline)
        throw new Error(`node 3 not synced in time: ${JSON.stringify(last?.ckpt)}`);
      const s = await nodeStatus(c.layout, 3, 5000);
      const now = performance.now();
      if (s) {
        last = s;
        statusAt ??= now;
        const conf = s.lastConfiguration;
        if (confAt === undefined && conf?.kind === 'regular' && conf.members.length === 3) {
          confAt = now;
          confAtMs = conf.atMs;
        }
        if (
          confAt !== undefined &&
          s.sync.roundsCompleted > 0 &&
          !s.sync.inProgress &&
          s.ckpt.checkpoints === CKPTS
        )
          syncedAt = now;
      }
      if (syncedAt === undefined) await sleep(20);
    }
    const after = await nodeStatus(c.layout, 1);
    const joinerPid = readPid(c.layout, 3)!;
    const senderPid = readPid(c.layout, 1)!;
    const joinerRssMiB = rssMiB(joinerPid);
    const senderRssMiB = rssMiB(senderPid);
    const durations = last ? recorderDurations(last.recorder.path, 3) : {};

    // Completeness, through a client on the joiner.
    const on3 = await connect(c, 3);
    const list3 = await on3.list();
    const list1 = await writers[0]!.list();
    const listMatches = JSON.stringify(list3) === JSON.stringify(list1) && list3.length === CKPTS;
    const totalSections = list3.reduce((n, s) => n + s.numberOfSections, 0);
    let sampleMatches = true;
    const sample = Array.from({ length: Math.min(SAMPLE, CKPTS) }, (_, k) =>
      Math.floor((k * CKPTS) / SAMPLE),
    );
    for (const i of sample) {
      const h = await on3.open(`ck-${i}`, { read: true, write: false });
      const data = await h.readMany(
        Array.from({ length: SECTIONS }, (_, j) => ({ id: `sec-${j}`, size: SYNC_SIZE })),
      );
      for (const [j, d] of data.entries())
        if (Buffer.compare(Buffer.from(d), Buffer.from(syncData(i, j))) !== 0) sampleMatches = false;
      await h.close();
    }
    return {
      checkpoints: CKPTS,
      sectionsPerCheckpoint: SECTIONS,
      sectionSize: SYNC_SIZE,
      setupSeconds,
      setupUpdatesPerSec: (CKPTS * (SECTIONS + 2)) / setupSeconds,
      spawnToStatusMs: statusAt! - t0,
      spawnToConfigurationMs: confAt! - t0,
      spawnToSyncedMs: syncedAt - t0,
      configurationToSyncedMs: syncedAt - confAt!,
      daemonStartToConfigurationMs: confAtMs,
      recorderRoundMs: durations.round,
      recorderCkptSyncMs: durations.ckpt,
      joinerRssMiB,
      senderRssMiB,
      listMatches,
      sampledCheckpoints: sample.length,
      sampleMatches,
      totalSections,
      ring: after ? ringDelta(before, after) : {},
      joinerRounds: {
        started: last!.sync.roundsStarted,
        completed: last!.sync.roundsCompleted,
        aborted: last!.sync.roundsAborted,
      },
    };
  } finally {
    await teardown(c);
  }
}

// ---- output -----------------------------------------------------------------------------------

const f = (x: number | undefined, d = 0): string =>
  x !== undefined && Number.isFinite(x)
    ? x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d })
    : '-';

function printIo(rows: IoRow[]): void {
  console.log(
    `ckpt on 3 daemons (127.0.0.1, udpu, no cipher, token ${TOKEN} ms), one client per node in this process, ` +
      `${INFLIGHT} calls in flight per client, ${SECONDS} s windows; ${cpus().length} cores`,
  );
  console.log('op        | size B | clients | ops/s (all clients) | p50 ms | p99 ms | errors');
  for (const r of rows) {
    console.log(
      [r.op.padEnd(9), r.size, r.clients, f(r.opsPerSec), f(r.p50Ms, 2), f(r.p99Ms, 2), r.errors].join(' | '),
    );
  }
}

function printSync(s: SyncResult): void {
  console.log(
    `sync to a joining node: ${f(s.checkpoints)} checkpoints × ${s.sectionsPerCheckpoint} sections × ` +
      `${s.sectionSize} B made on 2 daemons, then node 3 started empty`,
  );
  const lines: [string, string][] = [
    ['setup (clients on nodes 1, 2)', `${f(s.setupSeconds, 1)} s (${f(s.setupUpdatesPerSec)} updates/s)`],
    ['spawn → status answers', `${f(s.spawnToStatusMs)} ms`],
    ['spawn → 3-node configuration', `${f(s.spawnToConfigurationMs)} ms`],
    ['daemon start → configuration', `${f(s.daemonStartToConfigurationMs)} ms (node 3's own clock)`],
    ['spawn → replica complete', `${f(s.spawnToSyncedMs)} ms`],
    ['configuration → complete', `${f(s.configurationToSyncedMs)} ms (status polled every 20 ms)`],
    ['sync round (recorder)', `${f(s.recorderRoundMs)} ms (ckpt part ${f(s.recorderCkptSyncMs)} ms)`],
    ['joiner RSS after sync', `${f(s.joinerRssMiB, 1)} MiB (sender ${f(s.senderRssMiB, 1)} MiB)`],
    ['list on node 3 = node 1', `${s.listMatches ? 'yes' : 'NO'} (${f(s.totalSections)} sections)`],
    [
      'node 3 sync rounds',
      `${s.joinerRounds.started} started, ${s.joinerRounds.completed} completed, ${s.joinerRounds.aborted} aborted`,
    ],
    [
      'node 1 during the sync',
      Object.entries(s.ring)
        .map(([k, v]) => `${k} ${v}`)
        .join(', '),
    ],
    [
      'sample read back on node 3',
      `${s.sampleMatches ? 'identical' : 'DIFFERENT'} (${s.sampledCheckpoints} ckpts)`,
    ],
  ];
  for (const [k, v] of lines) console.log(`${k.padEnd(30)} ${v}`);
}

const io = values.only === 'sync' ? [] : await ioPart();
const sync = values.only === 'io' ? undefined : await syncPart();
if (values.json) {
  console.log(JSON.stringify({ seconds: SECONDS, inflight: INFLIGHT, token: TOKEN, io, sync }));
} else {
  if (io.length > 0) printIo(io);
  if (sync) {
    if (io.length > 0) console.log('');
    printSync(sync);
  }
}
