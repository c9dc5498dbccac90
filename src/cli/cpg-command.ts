/**
 * `totem cpg join|send|groups|members`: closed process groups from the shell, through the
 * client library (so it exercises exactly what applications use).
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { Cpg, type CpgConfigurationChange, type CpgMember, type CpgMessage } from '../client/index.js';
import { ErrorCode, TotemError } from '../ipc/errors.js';
import { defaultSocketPath } from '../ipc/paths.js';

const USAGE = `usage: totem cpg <subcommand> [--socket PATH] ...

  join GROUP [--count N] [--json]   join GROUP; print its messages and membership changes as they
                                    come (until Ctrl-C, or N messages)
  send GROUP TEXT | --file F [--safe]
                                    join GROUP, multicast TEXT (or F's bytes), leave
  groups [--json]                   every group in the cluster with its members
  members GROUP [--json]            GROUP's members, sorted by (node, pid)

--socket PATH   the daemon's IPC socket (default $TOTEM_SOCKET or ${defaultSocketPath({})})
`;

interface Values {
  socket?: string;
  count?: string;
  json?: boolean;
  file?: string;
  safe?: boolean;
  help?: boolean;
}

export async function run(args: string[]): Promise<number> {
  let values: Values;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args,
      options: {
        socket: { type: 'string', short: 's' },
        count: { type: 'string', short: 'n' },
        json: { type: 'boolean' },
        file: { type: 'string', short: 'f' },
        safe: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: true,
    }));
  } catch (err) {
    return usageError((err as Error).message);
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const [sub, ...rest] = positionals;
  const socket = values.socket ?? defaultSocketPath();
  try {
    switch (sub) {
      case 'join':
        if (rest.length !== 1) return usageError('join takes one GROUP');
        return await joinCommand(socket, rest[0]!, values);
      case 'send':
        if (rest.length !== (values.file === undefined ? 2 : 1))
          return usageError('send takes GROUP and TEXT, or GROUP and --file F');
        return await sendCommand(socket, rest[0]!, rest[1], values);
      case 'groups':
        if (rest.length !== 0) return usageError('groups takes no argument');
        return await groupsCommand(socket, values);
      case 'members':
        if (rest.length !== 1) return usageError('members takes one GROUP');
        return await membersCommand(socket, rest[0]!, values);
      default:
        return usageError(sub === undefined ? 'a subcommand is needed' : `unknown subcommand '${sub}'`);
    }
  } catch (err) {
    if (err instanceof TotemError) {
      process.stderr.write(`totem cpg: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}

async function joinCommand(socket: string, group: string, values: Values): Promise<number> {
  const limit = values.count === undefined ? Number.POSITIVE_INFINITY : Number(values.count);
  const validLimit = limit === Number.POSITIVE_INFINITY || (Number.isInteger(limit) && limit > 0);
  if (!validLimit) return usageError('--count takes a positive integer');
  const cpg = await Cpg.connect({ socket, name: 'totem cpg join' });
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const json = values.json ?? false;
  cpg.on('confchg', (c) => {
    if (c.group === group) out(json ? JSON.stringify({ type: 'confchg', ...c }) : formatChange(c));
  });
  cpg.on('totem', (t) =>
    out(
      json
        ? JSON.stringify({ type: 'totem', ...t })
        : `[totem] ring ${t.ringId.rep}.${t.ringId.seq} members ${t.members.join(',')}`,
    ),
  );
  cpg.on('disconnect', (e) => process.stderr.write(`totem cpg: ${e.message}; reconnecting\n`));
  cpg.on('reconnect', (r) =>
    process.stderr.write(`totem cpg: reconnected; joined ${r.groups.join(', ') || 'nothing'} again\n`),
  );
  // Messages are printed from the same event stream as the changes, so the output shows them
  // interleaved in the order the group delivered them.
  let seen = 0;
  const finished = new Promise<void>((resolve, reject) => {
    stop.signal.addEventListener('abort', () => resolve(), { once: true });
    cpg.on('close', (err) => (err && !stop.signal.aborted ? reject(err) : resolve()));
    cpg.on('message', (m) => {
      if (m.group !== group || seen >= limit) return;
      out(json ? JSON.stringify(messageJson(m)) : formatMessage(m));
      if (++seen >= limit) resolve();
    });
  });
  try {
    await cpg.join(group);
    await finished;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await cpg.close();
  }
  return 0;
}

async function sendCommand(
  socket: string,
  group: string,
  text: string | undefined,
  values: Values,
): Promise<number> {
  const data =
    values.file !== undefined
      ? new Uint8Array(await readFile(values.file))
      : new TextEncoder().encode(text ?? '');
  const cpg = await Cpg.connect({ socket, name: 'totem cpg send', reconnect: false });
  try {
    await cpg.join(group);
    await cpg.send(group, data, { guarantee: values.safe ? 'safe' : 'agreed' });
    await leaveWhenJoined(cpg, group);
  } finally {
    await cpg.close();
  }
  return 0;
}

/**
 * The daemon refuses a leave with BUSY until the client's own join has gone round the ring;
 * a send right after join gets there first, so the leave waits for it (bounded).
 */
async function leaveWhenJoined(cpg: Cpg, group: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await cpg.leave(group);
      return;
    } catch (err) {
      if (!(err instanceof TotemError) || err.code !== ErrorCode.BUSY || attempt >= 200) throw err;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
}

async function groupsCommand(socket: string, values: Values): Promise<number> {
  const cpg = await Cpg.connect({ socket, name: 'totem cpg groups', reconnect: false });
  try {
    const groups = await cpg.listGroups();
    if (values.json) out(JSON.stringify(groups));
    else for (const g of groups) out(`${g.group}\t${g.members.length}\t${formatMembers(g.members)}`);
  } finally {
    await cpg.close();
  }
  return 0;
}

async function membersCommand(socket: string, group: string, values: Values): Promise<number> {
  const cpg = await Cpg.connect({ socket, name: 'totem cpg members', reconnect: false });
  try {
    const members = await cpg.members(group);
    if (values.json) out(JSON.stringify(members.map(({ nodeId, pid }) => ({ nodeId, pid }))));
    else for (const m of members) out(`${m.nodeId}\t${m.pid}`);
  } finally {
    await cpg.close();
  }
  return 0;
}

function formatMessage(m: CpgMessage): string {
  return `[msg] ${m.nodeId}/${m.pid} ${m.guarantee} ${JSON.stringify(m.text())}`;
}

function messageJson(m: CpgMessage): object {
  return {
    type: 'message',
    group: m.group,
    nodeId: m.nodeId,
    pid: m.pid,
    guarantee: m.guarantee,
    text: m.text(),
  };
}

function formatChange(c: CpgConfigurationChange): string {
  const list = (ms: readonly CpgMember[]) =>
    ms.length === 0 ? '-' : ms.map((m) => `${m.nodeId}/${m.pid}(${m.reason})`).join(',');
  return `[conf] ${c.group} members ${formatMembers(c.members)} left ${list(c.left)} joined ${list(c.joined)}`;
}

function formatMembers(ms: readonly CpgMember[]): string {
  return ms.length === 0 ? '-' : ms.map((m) => `${m.nodeId}/${m.pid}`).join(',');
}

function out(line: string): void {
  process.stdout.write(`${line}\n`);
}

function usageError(message: string): number {
  process.stderr.write(`totem cpg: ${message}\n\n${USAGE}`);
  return 2;
}
