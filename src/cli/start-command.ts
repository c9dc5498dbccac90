import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { NodeId } from '../core/io.js';
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
  stopNode,
  waitForRing,
  writeCluster,
} from '../runtime/cluster.js';
import { controlRequest } from '../runtime/control.js';
import type { NodeStatus } from '../runtime/node-runtime.js';

const HELP = `usage: totem start [--nodes N] [--rate MSGS_PER_SEC] [--size BYTES] [--duration SECONDS] [--dir DIR]

The main job (what \`npm start\` runs): starts a local cluster of N daemons (default 3) on
127.0.0.1 with encryption, drives a message load through every node, and shows a live
view: members, ring id, state, messages/s, recent configuration changes.

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
  try {
    size = num('nodes', 3, 1, 9);
    rate = num('rate', 300, 0, 100_000);
    messageSize = num('size', 200, 8, 60_000);
    duration = num('duration', 10, 1, 86_400);
  } catch (err) {
    process.stderr.write(`totem start: ${(err as Error).message}\n`);
    return 2;
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

  const view = new LiveView(layout, rate, messageSize, tty);
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
  return report.findings.length === 0 ? 0 : 1;
}

async function stopAll(layout: ClusterLayout): Promise<void> {
  await Promise.all(layout.nodes.map((n) => stopNode(layout, n)));
}

class LiveView {
  stopped = false;
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
        await killNode(this.layout, n);
        this.note(`node ${n} killed (kill -9)`);
      } else {
        startNode(this.layout, n);
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
          `${rateNow.toFixed(0).padStart(7)} msg/s delivered  ${String(delivered).padStart(9)} total  pid ${s.pid}`,
      );
    });
    const uptime = ((now - this.started) / 1000).toFixed(0);
    const screen = [
      `Totem local cluster: ${this.layout.nodes.length} nodes on 127.0.0.1, up ${uptime}s, load ${this.rate} msg/s of ${this.size} B`,
      '',
      ...rows,
      '',
      'recent configuration changes:',
      ...(this.changes.length > 0
        ? this.changes.map((c) => `  ${c.at.toFixed(1).padStart(7)}s  ${c.text}`)
        : ['  (none yet)']),
      '',
      this.tty ? `keys: 1-${this.layout.nodes.length} kill/restart a node, q quit` : '',
    ];
    if (this.tty) process.stdout.write(`\x1b[H\x1b[2J${screen.join('\n')}\n`);
    else process.stdout.write(`${rows.join('\n')}\n`);
  }
}
