/**
 * Ordered-delivery throughput of real daemons on loopback: N daemons, each queues M test
 * messages of S bytes at once; the figure is the time until every daemon delivered all
 * N × M. Figures, never pass/fail (the daemons share this machine's cores with each other).
 *
 *   node dist/bench/runtime/cluster-bench.js [--nodes 3] [--count 20000] [--sizes 100,1000] [--json]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  alive,
  findFreePorts,
  nodeStatus,
  readPid,
  sleep,
  startNode,
  waitForRing,
  writeCluster,
} from '../../src/runtime/cluster.js';
import { controlRequest } from '../../src/runtime/control.js';

const { values } = parseArgs({
  options: {
    nodes: { type: 'string' },
    count: { type: 'string' },
    sizes: { type: 'string' },
    json: { type: 'boolean' },
  },
});
const NODES = Number(values.nodes ?? 3);
const COUNT = Number(values.count ?? 20000);
const SIZES = (values.sizes ?? '100,1000').split(',').map(Number);

interface Row {
  cipher: string;
  bytes: number;
  nodes: number;
  messages: number;
  seconds: number;
  messagesPerSec: number;
  mbPerSec: number;
  srpFrames: number;
  retransmits: number;
}

async function one(cipher: 'none' | 'aes256', size: number): Promise<Row> {
  const dir = mkdtempSync(join(tmpdir(), 'totem-bench-'));
  const layout = await writeCluster({
    dir,
    size: NODES,
    basePort: await findFreePorts(NODES),
    crypto: cipher,
  });
  try {
    for (const n of layout.nodes) startNode(layout, n);
    if (!(await waitForRing(layout, layout.nodes, 20_000))) throw new Error('no ring');
    const t0 = performance.now();
    for (const n of layout.nodes) await controlRequest(layout.socket(n), { op: 'load', count: COUNT, size });
    const total = COUNT * NODES;
    for (;;) {
      const s = await Promise.all(layout.nodes.map((n) => nodeStatus(layout, n)));
      if (s.every((x) => x && x.load.delivered >= total)) {
        const seconds = (performance.now() - t0) / 1000;
        return {
          cipher,
          bytes: size,
          nodes: NODES,
          messages: total,
          seconds: Number(seconds.toFixed(2)),
          messagesPerSec: Math.round(total / seconds),
          mbPerSec: Number(((total * size) / seconds / 1e6).toFixed(2)),
          srpFrames: s[0]!.srp.messagesDelivered,
          retransmits: s.reduce((a, x) => a + x!.srp.retransmits, 0),
        };
      }
      await sleep(20);
    }
  } finally {
    for (const n of layout.nodes) {
      const pid = readPid(layout, n);
      if (pid !== undefined && alive(pid)) process.kill(pid, 'SIGKILL');
    }
    await sleep(100);
    rmSync(dir, { recursive: true, force: true });
  }
}

const rows: Row[] = [];
for (const cipher of ['none', 'aes256'] as const)
  for (const size of SIZES) rows.push(await one(cipher, size));
if (values.json)
  process.stdout.write(`${JSON.stringify({ cpus: cpus().length, loadavg: loadavg(), rows })}\n`);
else {
  process.stdout.write(
    `${cpus().length} cpus, load ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}\n`,
  );
  for (const r of rows) {
    process.stdout.write(
      `${r.cipher.padEnd(7)} ${String(r.bytes).padStart(5)} B × ${r.messages}: ${r.seconds} s, ` +
        `${r.messagesPerSec} msg/s, ${r.mbPerSec} MB/s ordered (${r.srpFrames} srp frames, ${r.retransmits} retransmits)\n`,
    );
  }
}
