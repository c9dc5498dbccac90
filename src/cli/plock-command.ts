/**
 * `totem plock lock|unlock|test|list`: cluster-wide POSIX locks from the shell, through the
 * client library. A lock lives as long as its connection, so `lock` holds it until a signal
 * (SIGINT/SIGTERM), the end of --hold, or the end of its standard input with --stdin; then it
 * unlocks and exits.
 */
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import { PLOCK_EOF, Plock, PlockError, type PlockHolder } from '../client/index.js';
import { defaultSocketPath } from '../ipc/paths.js';

const USAGE = `usage: totem plock <subcommand> [--socket PATH] ...

  lock SPACE INODE [--start S] [--end E] [--shared] [--nowait] [--owner N] [--hold MS | --stdin]
                       take the lock (waiting unless --nowait), print "locked", hold it until
                       SIGINT/SIGTERM, --hold MS, or EOF on stdin (--stdin); then unlock and exit
  unlock SPACE INODE [--start S] [--end E] [--owner N]
                       unlock a range of this connection's owner (a new connection holds
                       nothing: locks die with their connection; exists for scripts and tests)
  test SPACE INODE [--start S] [--end E] [--shared] [--owner N] [--json]
                       F_GETLK: print the lock that would conflict, or "free" (exit 0 either way)
  list SPACE [INODE] [--json]
                       every granted lock this node knows: inode, range, type, node, owner

Ranges are inclusive byte offsets; --end defaults to the end of file. --owner defaults to
this process's pid. Exit codes: 0 done, 1 refused (WOULD_BLOCK...), 2 usage.
--socket PATH   the daemon's IPC socket (default $TOTEM_SOCKET or ${defaultSocketPath({})})
`;

interface Values {
  socket?: string;
  start?: string;
  end?: string;
  shared?: boolean;
  nowait?: boolean;
  owner?: string;
  hold?: string;
  stdin?: boolean;
  json?: boolean;
  help?: boolean;
}

const ARITY: Record<string, [number, number]> = { lock: [2, 2], unlock: [2, 2], test: [2, 2], list: [1, 2] };

export async function run(args: string[]): Promise<number> {
  let values: Values;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args,
      options: {
        socket: { type: 'string', short: 's' },
        start: { type: 'string' },
        end: { type: 'string' },
        shared: { type: 'boolean' },
        nowait: { type: 'boolean' },
        owner: { type: 'string' },
        hold: { type: 'string' },
        stdin: { type: 'boolean' },
        json: { type: 'boolean' },
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
  if (sub === undefined) return usageError('a subcommand is needed');
  const arity = ARITY[sub];
  if (arity === undefined) return usageError(`unknown subcommand '${sub}'`);
  if (rest.length < arity[0] || rest.length > arity[1])
    return usageError(`wrong number of arguments for ${sub}`);
  const num = (raw: string | undefined, what: string, dflt: number): number | string => {
    if (raw === undefined) return dflt;
    const n = raw === 'eof' ? PLOCK_EOF : Number(raw);
    return Number.isSafeInteger(n) && n >= 0 ? n : `${what} takes a non-negative integer`;
  };
  const inode = num(rest[1], 'INODE', 0);
  const start = num(values.start, '--start', 0);
  const end = num(values.end, '--end', PLOCK_EOF);
  const owner = num(values.owner, '--owner', process.pid);
  const hold = num(values.hold, '--hold', -1);
  for (const v of [inode, start, end, owner, hold]) if (typeof v === 'string') return usageError(v);
  const space = rest[0]!;
  const target = {
    space,
    inode: inode as number,
    start: start as number,
    end: end as number,
    owner: owner as number,
  };
  let plock: Plock | undefined;
  try {
    plock = await Plock.connect({ socket: values.socket ?? defaultSocketPath(), name: `totem plock ${sub}` });
    switch (sub) {
      case 'lock': {
        await plock.lock({ ...target, exclusive: !values.shared, wait: !values.nowait });
        out('locked');
        await holdUntilReleased(hold as number, values.stdin ?? false);
        await plock.unlock(target);
        out('unlocked');
        return 0;
      }
      case 'unlock':
        await plock.unlock(target);
        return 0;
      case 'test': {
        const h = await plock.test({ ...target, exclusive: !values.shared });
        if (values.json) out(JSON.stringify(h ?? null));
        else out(h ? show(h) : 'free');
        return 0;
      }
      case 'list': {
        const list = await plock.list(space, rest[1] === undefined ? undefined : (inode as number));
        if (values.json) out(JSON.stringify(list));
        else for (const h of list) out(show(h));
        return 0;
      }
    }
    return 2;
  } catch (err) {
    if (err instanceof PlockError) {
      process.stderr.write(`totem plock: ${err.message}\n`);
      return 1;
    }
    throw err;
  } finally {
    await plock?.close();
  }
}

async function holdUntilReleased(holdMs: number, stdin: boolean): Promise<void> {
  const waits: Promise<unknown>[] = [once(process, 'SIGINT'), once(process, 'SIGTERM')];
  let timer: NodeJS.Timeout | undefined;
  if (holdMs >= 0) waits.push(new Promise((resolve) => (timer = setTimeout(resolve, holdMs))));
  if (stdin) {
    process.stdin.resume();
    waits.push(once(process.stdin, 'end'));
  }
  await Promise.race(waits);
  if (timer) clearTimeout(timer);
  if (stdin) process.stdin.pause();
}

function show(h: PlockHolder): string {
  const end = h.end === PLOCK_EOF ? 'eof' : String(h.end);
  return `${h.inode}\t${h.start}-${end}\t${h.exclusive ? 'exclusive' : 'shared'}\tnode ${h.nodeId}\towner ${h.owner}`;
}

function out(line: string): void {
  process.stdout.write(`${line}\n`);
}

function usageError(message: string): number {
  process.stderr.write(`totem plock: ${message}\n\n${USAGE}`);
  return 2;
}
