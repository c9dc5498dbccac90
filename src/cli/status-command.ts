/**
 * `totem status [--json] [-c FILE [--node-id N]] [--socket PATH]`: asks running daemons
 * through their control sockets. With -c and no --node-id, every node of the file whose
 * socket exists in the run dir answers (a whole local cluster).
 */
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadConfigFile } from '../config/load.js';
import { controlRequest } from '../runtime/control.js';
import type { NodeStatus } from '../runtime/node-runtime.js';
import { nodePaths } from '../runtime/paths.js';

const USAGE = `usage: totem status [--json] [-c FILE [--node-id N]] [--socket PATH]

Shows node id, state, ring id, members and counters of running daemons.
  -c, --config FILE   the daemon's configuration (its run_dir holds the sockets)
  --node-id N         only this node (default: every node with a socket)
  --socket PATH       ask the daemon listening on PATH
  --json              one JSON array of the full status objects
`;

export async function run(args: string[]): Promise<number> {
  let values: { config?: string; 'node-id'?: string; socket?: string; json?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({
      args,
      options: {
        config: { type: 'string', short: 'c' },
        'node-id': { type: 'string' },
        socket: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    process.stderr.write(`totem status: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  let sockets: string[];
  if (values.socket) sockets = [values.socket];
  else if (values.config) {
    let config: Awaited<ReturnType<typeof loadConfigFile>>['config'];
    try {
      ({ config } = await loadConfigFile(values.config));
    } catch (err) {
      process.stderr.write(`totem status: ${(err as Error).message}\n`);
      return 2;
    }
    const wanted = values['node-id'] === undefined ? undefined : Number(values['node-id']);
    const ids = config.nodelist.map((n) => n.nodeId).filter((id) => wanted === undefined || id === wanted);
    if (ids.length === 0) {
      process.stderr.write(`totem status: node ${values['node-id']} is not in ${values.config}\n`);
      return 2;
    }
    sockets = ids.map((id) => nodePaths(config, id).socket);
    if (wanted === undefined) {
      const live = sockets.filter((s) => existsSync(s));
      if (live.length === 0) {
        process.stderr.write(
          `totem status: no daemon socket in ${config.runtime.runDir}; is a daemon running?\n`,
        );
        return 1;
      }
      sockets = live;
    }
  } else {
    process.stderr.write(`totem status: give -c FILE or --socket PATH\n\n${USAGE}`);
    return 2;
  }

  const answers = await Promise.all(
    sockets.map(async (socket) => {
      try {
        const r = await controlRequest(socket, { op: 'status' });
        return r.ok ? { socket, status: r.status as NodeStatus } : { socket, error: r.error };
      } catch (err) {
        return { socket, error: (err as Error).message };
      }
    }),
  );
  let failed = 0;
  if (values.json) {
    process.stdout.write(
      `${JSON.stringify(
        answers.map((a) => ('status' in a ? a.status : a)),
        null,
        2,
      )}\n`,
    );
    failed = answers.filter((a) => !('status' in a)).length;
  } else {
    for (const a of answers) {
      if ('status' in a && a.status) process.stdout.write(formatStatus(a.status));
      else {
        failed++;
        process.stdout.write(`${a.socket}: not answering (${a.error})\n`);
      }
    }
  }
  return failed === 0 ? 0 : 1;
}

export function formatStatus(s: NodeStatus): string {
  const nonZero = (o: Record<string, number>): string =>
    Object.entries(o)
      .filter(([, v]) => v > 0)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ') || 'none';
  const t = s.transport;
  const lines = [
    `node ${s.nodeId} (pid ${s.pid}, cluster ${s.clusterName}): ${s.state}, ring ${s.ringId.rep}/${s.ringId.seq}, ` +
      `members [${s.members.join(' ')}], up ${(s.uptimeMs / 1000).toFixed(1)} s${s.left ? ', left' : ''}`,
    `  srp frames: sent ${s.srp.messagesOriginated}, delivered ${s.srp.messagesDelivered}, retransmits ${s.srp.retransmits}` +
      `, retransmit requests ${s.srp.retransmitRequests}`,
    `  token: rotations ${s.srp.tokenRotations}, retransmits ${s.srp.tokenRetransmits}, losses ${s.srp.tokenLosses}` +
      `; configuration changes ${s.configurationCount}`,
    `  dropped by srp: ${nonZero(s.srp.packetsDropped)}; before srp (membership guard): ${nonZero(s.guardDropped)}`,
    `  transport: ${t.sentDatagrams} datagrams out, ${t.received} in, dropped: ${nonZero(t.dropped)}` +
      `${t.sendErrors ? `, send errors ${t.sendErrors}` : ''}`,
    `  test load: sent ${s.load.sent}, queued ${s.load.queued}, delivered ${s.load.delivered} ` +
      `(hash ${s.load.hash.slice(0, 16)}), this ring ${s.load.ringDelivered} (hash ${s.load.ringHash.slice(0, 16)})`,
    `  clients: ipc ${s.ipc.socket}, ${s.ipc.connections} connected; ` +
      `cpg ${s.cpg.groups} group(s), ${s.cpg.processes} process(es); ` +
      `sync rounds ${s.sync.roundsCompleted} completed, ${s.sync.roundsAborted} aborted; ` +
      `ckpt ${s.ckpt.checkpoints} checkpoint(s), ${s.ckpt.openHandles} open`,
    `  recorder: ${s.recorder.path}`,
  ];
  const p = s.plock as NodeStatus['plock'] | undefined;
  if (p) {
    lines.splice(
      lines.length - 1,
      0,
      `  plock: ${p.ready ? 'ready' : 'waiting for lock state'}, ownership ${p.ownership ? 'on' : 'off'}; ` +
        `${p.messagesSent} message(s) sent, ${p.localOps} local op(s), ${p.handoversSent} hand-over(s), ` +
        `${p.stores} store(s), ${p.loads} load(s)`,
    );
  }
  if (s.partition) lines.push(`  TEST PARTITION: ${JSON.stringify(s.partition)}`);
  return `${lines.join('\n')}\n`;
}
