/**
 * `totem cluster up N [--dir DIR] [--base-port P] [--crypto] [--token MS]` and
 * `totem cluster down [--dir DIR]`: a local cluster of detached daemons on 127.0.0.1.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  alive,
  clusterLayout,
  clusterNodes,
  readPid,
  startNode,
  stopNode,
  waitForRing,
  writeCluster,
} from '../runtime/cluster.js';

const DEFAULT_DIR = join(tmpdir(), 'totem-cluster');
const DEFAULT_BASE_PORT = 5405;

const USAGE = `usage: totem cluster up N [--dir DIR] [--base-port P] [--crypto] [--token MS] [--no-wait]
       totem cluster down [--dir DIR]

up: writes DIR/node-1.conf … node-N.conf (127.0.0.1, ports P … P+N-1, token MS with
    token_coefficient 0), a key with --crypto (aes256), starts the N daemons detached and
    waits until they form one ring. Logs: DIR/node-N.log; status: totem status -c DIR/node-1.conf
down: SIGTERM to every node (each leaves the ring), SIGKILL after 5 s; prints where the
    flight-recorder rings are (totem fplay check DIR/state/rings).
Defaults: DIR ${DEFAULT_DIR}, P ${DEFAULT_BASE_PORT}, MS 1000.
`;

export async function run(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === '--help' || sub === '-h') {
    process.stdout.write(USAGE);
    return sub === undefined ? 2 : 0;
  }
  let parsed: { values: Record<string, string | boolean | undefined>; positionals: string[] };
  try {
    parsed = parseArgs({
      args: rest,
      options: {
        dir: { type: 'string' },
        'base-port': { type: 'string' },
        crypto: { type: 'boolean' },
        token: { type: 'string' },
        'no-wait': { type: 'boolean' },
      },
      strict: true,
      allowPositionals: true,
    });
  } catch (err) {
    process.stderr.write(`totem cluster: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const dir = (parsed.values.dir as string | undefined) ?? DEFAULT_DIR;
  if (sub === 'up') return up(dir, parsed);
  if (sub === 'down') return down(dir);
  process.stderr.write(`totem cluster: unknown subcommand '${sub}'\n\n${USAGE}`);
  return 2;
}

async function up(
  dir: string,
  parsed: { values: Record<string, string | boolean | undefined>; positionals: string[] },
): Promise<number> {
  const size = Number(parsed.positionals[0]);
  const basePort = Number(parsed.values['base-port'] ?? DEFAULT_BASE_PORT);
  const token = Number(parsed.values.token ?? 1000);
  if (!Number.isInteger(size) || size < 1 || size > 64) {
    process.stderr.write('totem cluster up: N must be an integer in 1..64\n');
    return 2;
  }
  if (!Number.isInteger(basePort) || basePort < 1 || basePort + size - 1 > 65535) {
    process.stderr.write('totem cluster up: --base-port must leave room for N ports below 65536\n');
    return 2;
  }
  if (!Number.isInteger(token) || token < 100) {
    process.stderr.write('totem cluster up: --token must be an integer ≥ 100 (ms)\n');
    return 2;
  }
  const running = clusterNodes(dir).filter((n) => {
    const pid = readPid(clusterLayout(dir, n), n);
    return pid !== undefined && alive(pid);
  });
  if (running.length > 0) {
    process.stderr.write(
      `totem cluster up: nodes ${running.join(', ')} already run in ${dir}; 'totem cluster down' first\n`,
    );
    return 1;
  }
  const layout = await writeCluster({
    dir,
    size,
    basePort,
    token,
    crypto: parsed.values.crypto ? 'aes256' : 'none',
  });
  for (const n of layout.nodes) {
    const pid = startNode(layout, n);
    process.stdout.write(
      `node ${n}: pid ${pid}, 127.0.0.1:${basePort + n - 1}, log ${layout.logFile(n)}, ipc ${layout.ipcSocket(n)}\n`,
    );
  }
  if (parsed.values['no-wait']) return 0;
  const bound = 5000 + 3 * token * 1.2 + 200 * size;
  const ring = await waitForRing(layout, layout.nodes, bound);
  if (!ring) {
    process.stderr.write(
      `totem cluster up: the nodes did not form one ring within ${Math.round(bound)} ms; ` +
        `see the logs in ${layout.dir} and 'totem status -c ${layout.configFile(1)}'\n`,
    );
    return 1;
  }
  const r = ring[0]!.ringId;
  process.stdout.write(
    `ring ${r.rep}/${r.seq} formed with members [${layout.nodes.join(' ')}]\n` +
      `status: totem status -c ${layout.configFile(1)}\n` +
      `cpg:    totem cpg --socket ${layout.ipcSocket(1)} groups\n` +
      `stop:   totem cluster down --dir ${layout.dir}\n`,
  );
  return 0;
}

async function down(dir: string): Promise<number> {
  const nodes = clusterNodes(dir);
  if (nodes.length === 0) {
    process.stdout.write(`totem cluster down: no pid files in ${dir}; nothing to stop\n`);
    return 0;
  }
  const layout = clusterLayout(dir, Math.max(...nodes));
  const results = await Promise.all(nodes.map((n) => stopNode(layout, n)));
  for (const r of results) {
    const how = r.how === 'not running' ? 'was not running' : `stopped (${r.how})`;
    process.stdout.write(`node ${r.node}${r.pid ? ` (pid ${r.pid})` : ''}: ${how}\n`);
  }
  process.stdout.write(`flight-recorder rings: ${layout.ringDir}\n  totem fplay check ${layout.ringDir}\n`);
  return 0;
}
