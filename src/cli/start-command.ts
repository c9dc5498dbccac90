import { randomInt } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import type { NodeId } from '../core/io.js';
import type { LoadFinding } from '../load/cluster-load.js';
import type { PlockConnect } from '../load/plock-api.js';
import { loadPlockConnect } from '../load/plock-connect.js';
import { PlockLoad } from '../load/plock-load.js';
import { DEFAULT_PLOCK_WORKLOAD, PlockWorkload } from '../load/plock-workload.js';
import { checkRings } from '../recorder/check.js';
import { loadRings } from '../recorder/load.js';
import {
  alive,
  type ClusterLayout,
  findFreePorts,
  killNode,
  nodeStatus,
  readPid,
  sleep,
  startNode,
  stopInTurn,
  waitForRing,
  writeCluster,
} from '../runtime/cluster.js';
import { controlRequest } from '../runtime/control.js';
import type { NodeStatus } from '../runtime/node-runtime.js';

const HELP = `usage: totem start [--nodes N] [--rate MSGS_PER_SEC] [--size BYTES] [--owners N]
                   [--duration SECONDS] [--dir DIR]

The main job (what \`npm start\` runs): starts a local cluster of N daemons (default 3) on
127.0.0.1 with encryption, runs the plock load on it (--owners processes per node taking and
releasing shared/exclusive locks on many inodes, default 4; 0: none) and a message load
(--rate, default 300 msg/s), and shows a live view: members, ring id, state, messages/s,
lock ops/s and the lock state, recent configuration changes.

keys (on a terminal): 1..9 kill -9 that node, or restart it when it is down; q or Ctrl-C
stops everything. Without a terminal it runs for --duration seconds (default 10).
At the end it stops every daemon it started, runs 'totem fplay check' over their flight
recorder rings, and prints where the rings are.
`;

interface Change {
  readonly at: number;
  readonly text: string;
}

export async function run(args: string[]): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        nodes: { type: 'string' },
        rate: { type: 'string' },
        size: { type: 'string' },
        duration: { type: 'string' },
        owners: { type: 'string' },
        dir: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    process.stderr.write(`totem start: ${(err as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const num = (name: string, fallback: number, min: number, max: number): number => {
    const raw = values[name];
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max)
      throw new RangeError(`--${name}: expected ${min}..${max}, got "${raw}"`);
    return n;
  };
  let size: number;
  let rate: number;
  let messageSize: number;
  let duration: number;
  let owners: number;
  try {
    size = num('nodes', 3, 1, 9);
    rate = num('rate', 300, 0, 100_000);
    messageSize = num('size', 200, 8, 60_000);
    duration = num('duration', 10, 1, 86_400);
    owners = num('owners', 4, 0, 64);
  } catch (err) {
    process.stderr.write(`totem start: ${(err as Error).message}\n`);
    return 2;
  }
  let connect: PlockConnect | undefined;
  if (owners > 0) {
    try {
      connect = await loadPlockConnect();
    } catch (err) {
      process.stderr.write(`totem start: no plock load: ${(err as Error).message}\n`);
    }
  }
  const tty = process.stdin.isTTY === true && process.stdout.isTTY === true;
  const dir = (values.dir as string | undefined) ?? mkdtempSync(join(tmpdir(), 'totem-'));
  const basePort = await findFreePorts(size);
  const layout = await writeCluster({
    dir,
    size,
    basePort,
    crypto: 'aes256',
    token: 1000,
    clusterName: 'local',
  });
  process.stdout.write(
    `starting ${size} daemons in ${layout.dir} (127.0.0.1:${basePort}..${basePort + size - 1})\n`,
  );
  for (const n of layout.nodes) startNode(layout, n);
  const formed = await waitForRing(layout, layout.nodes, 20_000);
  if (!formed) {
    process.stderr.write(
      `totem start: the daemons did not form one ring in 20 s; logs: ${layout.dir}/node-*.log\n`,
    );
    await stopAll(layout);
    return 1;
  }

  let locks: PlockLoad | undefined;
  if (connect) {
    const clock = (): number => performance.now();
    locks = new PlockLoad({
      nodes: layout.nodes,
      socket: (n) => layout.ipcSocket(n),
      connect,
      workload: new PlockWorkload({
        ...DEFAULT_PLOCK_WORKLOAD,
        space: 'start',
        seed: randomInt(1, 2 ** 31 - 1),
      }),
      ownersPerNode: owners,
      clock,
    });
    locks.start(layout.nodes);
  }
  const view = new LiveView(layout, rate, messageSize, tty, locks);
  const stop = new Promise<void>((resolve) => {
    const finish = (): void => resolve();
    process.once('SIGINT', finish);
    process.once('SIGTERM', finish);
    if (tty) {
      process.stdin.setRawMode(true);
      process.stdin.resume();
      process.stdin.on('data', (key: Buffer) => {
        const k = key.toString();
        if (k === 'q' || k === '\u0003') finish();
        else if (/^[1-9]$/.test(k) && Number(k) <= size) void view.toggle(Number(k));
      });
    } else {
      setTimeout(finish, duration * 1000).unref();
    }
  });
  const ticking = view.run();
  await stop;
  view.stopped = true;
  await ticking;
  if (tty) {
    process.stdin.setRawMode(false);
    process.stdin.pause();
  }
  const lockFindings = view.lockFindings;
  if (locks) {
    lockFindings.push(...locks.check(STUCK_MS));
    await locks.stop();
    const c = locks.counters();
    process.stdout.write(
      `\nplock load: ${c.grants} grants, ${c.releases} releases, ${c.wouldBlock} would-block, ${c.errors} client errors; ` +
        `${lockFindings.length === 0 ? 'no conflicting locks, no client stuck' : `${lockFindings.length} finding(s)`}\n`,
    );
    for (const f of lockFindings.slice(0, 5)) process.stdout.write(`  ${f.kind}: ${f.message}\n`);
  }
  process.stdout.write('\nstopping the daemons (SIGTERM)...\n');
  await stopAll(layout);
  const { images } = loadRings([layout.ringDir]);
  const report = checkRings(images);
  const c = report.counts;
  process.stdout.write(
    `fplay check over ${images.length} ring(s): ${c.transmitted} transmitted, ${c.delivered} delivered, ` +
      `${c.configurations} configuration(s): ${report.findings.length === 0 ? 'clean' : `${report.findings.length} finding(s)`}\n`,
  );
  for (const f of report.findings.slice(0, 5)) process.stdout.write(`  ${f.kind}: ${f.message}\n`);
  process.stdout.write(
    `flight recorder rings: ${layout.ringDir}\n  npx totem fplay --last 40 ${layout.ringDir}\n  npx totem fplay check ${layout.ringDir}\nlogs: ${layout.dir}/node-*.log\n`,
  );
  return report.findings.length === 0 && lockFindings.length === 0 ? 0 : 1;
}

/** A lock operation outstanding this long (not counting a node's own recovery) is shown as stuck. */
const STUCK_MS = 30_000;

async function stopAll(layout: ClusterLayout): Promise<void> {
  await stopInTurn(layout, layout.nodes);
}

class LiveView {
  stopped = false;
  readonly lockFindings: LoadFinding[] = [];
  private lastLockOps = 0;
  private readonly changes: Change[] = [];
  private readonly lastDelivered = new Map<NodeId, number>();
  private readonly lastRing = new Map<NodeId, string>();
  private readonly started = Date.now();
  private lastTick = Date.now();
  private busy = false;

  constructor(
    private readonly layout: ClusterLayout,
    private readonly rate: number,
    private readonly size: number,
    private readonly tty: boolean,
    private readonly locks: PlockLoad | undefined,
  ) {}

  async run(): Promise<void> {
    while (!this.stopped) {
      await this.tick();
      await sleep(1000);
    }
  }

  /** Kills a running node with SIGKILL, or restarts a stopped one. */
  async toggle(n: NodeId): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const pid = readPid(this.layout, n);
      if (pid !== undefined && alive(pid)) {
        this.locks?.nodeDown(n, performance.now());
        await killNode(this.layout, n);
        this.note(`node ${n} killed (kill -9)`);
      } else {
        startNode(this.layout, n);
        this.locks?.nodeUp(n);
        this.note(`node ${n} restarted`);
      }
    } finally {
      this.busy = false;
    }
  }

  private note(text: string): void {
    const at = (Date.now() - this.started) / 1000;
    this.changes.push({ at, text });
    if (this.changes.length > 8) this.changes.shift();
    if (!this.tty) process.stdout.write(`[${at.toFixed(1)}s] ${text}\n`);
  }

  private async tick(): Promise<void> {
    const now = Date.now();
    const elapsed = Math.max(0.001, (now - this.lastTick) / 1000);
    this.lastTick = now;
    const statuses = await Promise.all(this.layout.nodes.map((n) => nodeStatus(this.layout, n, 800)));
    // Keep the load going: each live node gets its share of the next second's messages.
    const live = statuses.filter((s): s is NodeStatus => s !== undefined);
    const perNode = live.length > 0 ? Math.ceil(this.rate / live.length) : 0;
    await Promise.all(
      live.map((s) =>
        perNode > 0
          ? controlRequest(
              this.layout.socket(s.nodeId),
              { op: 'load', count: perNode, size: this.size },
              800,
            ).catch(() => undefined)
          : undefined,
      ),
    );
    const rows: string[] = [];
    this.layout.nodes.forEach((n, i) => {
      const s = statuses[i];
      if (!s) {
        rows.push(`  node ${n}  down`);
        this.lastRing.delete(n);
        return;
      }
      const ring = `${s.ringId.rep}.${s.ringId.seq}`;
      const before = this.lastRing.get(n);
      if (before !== undefined && before !== ring)
        this.note(`node ${n}: ring ${before} -> ${ring}, members [${s.members.join(' ')}]`);
      this.lastRing.set(n, ring);
      const delivered = s.load.delivered;
      const rateNow = (delivered - (this.lastDelivered.get(n) ?? delivered)) / elapsed;
      this.lastDelivered.set(n, delivered);
      rows.push(
        `  node ${n}  ${s.state.padEnd(11)} ring ${ring.padEnd(8)} members [${s.members.join(' ')}]`.padEnd(
          62,
        ) +
          `${rateNow.toFixed(0).padStart(7)} msg/s delivered  ${String(delivered).padStart(9)} total  ` +
          `plock ${s.plock.ready ? 'ready' : 'syncing'} ${String(s.plock.messagesApplied).padStart(7)} applied  pid ${s.pid}`,
      );
    });
    const lockLines: string[] = [];
    if (this.locks) {
      const found = this.locks.check(STUCK_MS);
      for (const f of found) this.note(`plock ${f.kind}: ${f.message}`);
      this.lockFindings.push(...found);
      const c = this.locks.counters();
      const lockRate = (c.lockOps - this.lastLockOps) / elapsed;
      this.lastLockOps = c.lockOps;
      lockLines.push(
        `  plock: ${lockRate.toFixed(0).padStart(6)} lock ops/s  ${c.held} held by clients, ${c.outstanding} waiting or in flight` +
          ` (oldest ${(c.oldestMs / 1000).toFixed(1)} s); ${c.grants} grants, ${c.wouldBlock} would-block, ` +
          `${this.lockFindings.filter((f) => f.kind === 'lock-conflict').length} conflicts`,
      );
    }
    const uptime = ((now - this.started) / 1000).toFixed(0);
    const screen = [
      `Totem local cluster: ${this.layout.nodes.length} nodes on 127.0.0.1, up ${uptime}s, load ${this.rate} msg/s of ${this.size} B`,
      '',
      ...rows,
      ...lockLines,
      '',
      'recent configuration changes:',
      ...(this.changes.length > 0
        ? this.changes.map((c) => `  ${c.at.toFixed(1).padStart(7)}s  ${c.text}`)
        : ['  (none yet)']),
      '',
      this.tty ? `keys: 1-${this.layout.nodes.length} kill/restart a node, q quit` : '',
    ];
    if (this.tty) process.stdout.write(`\x1b[H\x1b[2J${screen.join('\n')}\n`);
    else process.stdout.write(`${[...rows, ...lockLines].join('\n')}\n`);
  }
}
