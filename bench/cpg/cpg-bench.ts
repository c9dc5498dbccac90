/**
 * cpg end to end through client IPC: one Cpg client sends to a group it joined, through a
 * unix socket, the IpcServer, the cpg service, pg and a 3-member LoopbackRing (no network, no
 * srp), and receives its own messages back. A window of sends is kept in flight. Recorders
 * are on. Figures only, never pass/fail.
 *
 *   node dist/bench/cpg/cpg-bench.js [--json] [--seconds 2] [--sizes 64,1024,16384] [--window 64]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Cpg } from '../../src/client/index.js';
import { IpcServer } from '../../src/ipc/server.js';
import { LoopbackRing } from '../../src/pg/loopback-ordered-channel.js';
import { ProcessGroups } from '../../src/pg/process-groups.js';
import { Recorder } from '../../src/recorder/recorder.js';
import { CpgService } from '../../src/services/cpg/cpg-service.js';
import { CpgIpcService } from '../../src/services/cpg/ipc-binding.js';

interface Row {
  size: number;
  window: number;
  messages: number;
  seconds: number;
  msgsPerSec: number;
  mbPerSec: number;
  p50LatencyMs: number;
  p99LatencyMs: number;
}

async function run(size: number, seconds: number, window: number): Promise<Row> {
  const dir = await mkdtemp(join(tmpdir(), 'totem-cpg-bench-'));
  const ring = new LoopbackRing({ members: [1, 2, 3], queueCapacity: 1024 });
  const services: CpgService[] = [];
  for (const id of [1, 2, 3]) {
    const recorder = new Recorder({ nodeId: id });
    const pg = new ProcessGroups({ channel: ring.channel(id), recorder, nodeId: id });
    ring.attach(id, pg);
    services.push(new CpgService({ pg, recorder, nodeId: id }));
  }
  let scheduled = false;
  const settle = () => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      ring.settle();
    });
  };
  const server = await IpcServer.listen({
    dir,
    recorder: new Recorder({ nodeId: 1 }),
    nodeId: 1,
    afterInput: settle,
  });
  server.register(new CpgIpcService(services[0]!));
  const cpg = await Cpg.connect({ socket: server.path });
  await cpg.join('bench');
  const data = new Uint8Array(size);
  const sentAt: number[] = [];
  const latencies: number[] = [];
  let received = 0;
  let sent = 0;
  const start = performance.now();
  const end = start + seconds * 1000;
  const done = new Promise<void>((resolve) => {
    cpg.on('message', () => {
      latencies.push(performance.now() - sentAt[received]!);
      received++;
      if (performance.now() >= end && received === sent) resolve();
      else pump();
    });
  });
  const pump = () => {
    while (sent - received < window && performance.now() < end) {
      sentAt[sent] = performance.now();
      sent++;
      void cpg.send('bench', data);
    }
  };
  pump();
  await done;
  const elapsed = (performance.now() - start) / 1000;
  await cpg.close();
  await server.close();
  await rm(dir, { recursive: true, force: true });
  latencies.sort((a, b) => a - b);
  return {
    size,
    window,
    messages: received,
    seconds: elapsed,
    msgsPerSec: received / elapsed,
    mbPerSec: (received * size) / elapsed / 1e6,
    p50LatencyMs: latencies[Math.floor(latencies.length * 0.5)] ?? 0,
    p99LatencyMs: latencies[Math.floor(latencies.length * 0.99)] ?? 0,
  };
}

const { values } = parseArgs({
  options: {
    json: { type: 'boolean' },
    seconds: { type: 'string', default: '2' },
    sizes: { type: 'string', default: '64,1024,16384' },
    window: { type: 'string', default: '64' },
  },
});
const rows: Row[] = [];
for (const size of values.sizes.split(',').map(Number)) {
  rows.push(await run(size, Number(values.seconds), Number(values.window)));
}
if (values.json) console.log(JSON.stringify({ load: loadavg(), rows }));
else {
  console.log(
    `cpg via IPC, 3-member loopback ring, load ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  for (const r of rows) {
    console.log(
      `${String(r.size).padStart(6)} B  window ${r.window}  ${r.msgsPerSec.toFixed(0).padStart(7)} msg/s  ${r.mbPerSec.toFixed(1).padStart(6)} MB/s  p50 ${r.p50LatencyMs.toFixed(2)} ms  p99 ${r.p99LatencyMs.toFixed(2)} ms`,
    );
  }
}
