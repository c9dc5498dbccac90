/**
 * Plock figures on three real daemons (127.0.0.1, one process each): lock+unlock pairs per
 * second, with ownership off and on, without contention (every worker its own inode) and with
 * it (every worker the same byte of one inode, exclusive). Figures only, never pass/fail.
 *
 *   node dist/bench/plock/plock-bench.js [--json] [--seconds 3] [--workers 4]
 *
 * Each worker is one client connection doing lock, unlock, lock, ... in turn (each call waits
 * for its answer); `--workers` of them run on each of the three nodes.
 */

import { appendFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { Plock } from '../../src/client/index.js';
import { DaemonCluster } from '../../test/runtime/daemons.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const seconds = arg('seconds', 3);
const workers = arg('workers', 4);
const json = process.argv.includes('--json');

async function phase(clients: Plock[], contended: boolean): Promise<{ pairsPerSec: number; pairs: number }> {
  const end = performance.now() + seconds * 1000;
  let pairs = 0;
  const t0 = performance.now();
  await Promise.all(
    clients.map(async (p, i) => {
      const target = { space: 'bench', inode: contended ? 1 : 1000 + i, start: 0, end: 0, owner: i + 1 };
      while (performance.now() < end) {
        await p.lock({ ...target, exclusive: true });
        await p.unlock(target);
        pairs++;
      }
    }),
  );
  const ms = performance.now() - t0;
  return { pairsPerSec: Math.round(pairs / (ms / 1000)), pairs };
}

async function mode(ownership: boolean): Promise<Record<string, number>> {
  const c = await DaemonCluster.create({ size: 3, start: [], debug: 'off' });
  try {
    if (ownership)
      for (const n of c.nodes) appendFileSync(c.layout.configFile(n), '\nplock {\n  ownership: on\n}\n');
    for (const n of c.nodes) c.start(n);
    await c.ring([1, 2, 3], 30_000);
    const clients: Plock[] = [];
    for (const n of c.nodes) {
      for (let w = 0; w < workers; w++)
        clients.push(await Plock.connect({ socket: c.layout.ipcSocket(n), name: 'bench' }));
    }
    // Warm-up: every node has its plock state (first sync round done) before timing.
    for (const p of clients) {
      const t = { space: 'bench', inode: 0, start: 0, end: 0, owner: 1 };
      await p.lock({ ...t, exclusive: false });
      await p.unlock(t);
    }
    const free = await phase(clients, false);
    const contended = await phase(clients, true);
    const status = await c.status(1);
    for (const p of clients) await p.close();
    return {
      uncontendedPairsPerSec: free.pairsPerSec,
      contendedPairsPerSec: contended.pairsPerSec,
      node1LocalOps: status?.plock.localOps ?? 0,
      node1MessagesSent: status?.plock.messagesSent ?? 0,
      node1Handovers: status?.plock.handoversSent ?? 0,
    };
  } finally {
    await c.destroy();
  }
}

const result = {
  nodes: 3,
  workersPerNode: workers,
  seconds,
  ownershipOff: await mode(false),
  ownershipOn: await mode(true),
};
if (json) console.log(JSON.stringify(result));
else {
  console.log(
    `3 daemons, ${workers} workers per node, ${seconds} s per figure (lock+unlock pairs/s, all nodes)`,
  );
  for (const [name, r] of [
    ['ownership off', result.ownershipOff],
    ['ownership on', result.ownershipOn],
  ] as const) {
    console.log(
      `${name.padEnd(14)} uncontended ${String(r.uncontendedPairsPerSec).padStart(7)}   contended ${String(r.contendedPairsPerSec).padStart(7)}   (node 1: ${r.node1LocalOps} local ops, ${r.node1MessagesSent} messages, ${r.node1Handovers} hand-overs)`,
    );
  }
}
