/**
 * `totem ckpt ls|create|write|read|rm|sections|status`: checkpoints from the shell, through the
 * client library (so it exercises exactly what applications use).
 */
import { parseArgs } from 'node:util';
import { type CheckpointHandle, Ckpt, TIME_END } from '../client/index.js';
import { TotemError } from '../ipc/errors.js';
import { defaultSocketPath } from '../ipc/paths.js';

const USAGE = `usage: totem ckpt <subcommand> [--socket PATH] ...

  ls [--json]                    every checkpoint: name, sections, bytes, open handles
  create NAME [--sections N] [--section-size B] [--retention MS]
                                 create NAME (EXIST if it exists with other attributes)
  write NAME SECTION DATA        create SECTION with DATA, or overwrite it
  read NAME SECTION              print SECTION's data
  rm NAME                        unlink NAME (it lives on while handles are open)
  sections NAME [--json]         NAME's sections: id, size, expiration
  status NAME [--json]           NAME's attributes, section count and bytes used

--socket PATH   the daemon's IPC socket (default $TOTEM_SOCKET or ${defaultSocketPath({})})
`;

interface Values {
  socket?: string;
  json?: boolean;
  sections?: string;
  'section-size'?: string;
  retention?: string;
  help?: boolean;
}

const ARITY: Record<string, number> = { ls: 0, create: 1, write: 3, read: 2, rm: 1, sections: 1, status: 1 };

export async function run(args: string[]): Promise<number> {
  let values: Values;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args,
      options: {
        socket: { type: 'string', short: 's' },
        json: { type: 'boolean' },
        sections: { type: 'string' },
        'section-size': { type: 'string' },
        retention: { type: 'string' },
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
  if (rest.length !== arity) return usageError(`${sub} takes ${arity} argument${arity === 1 ? '' : 's'}`);
  const numbers = parseNumbers(values);
  if (typeof numbers === 'string') return usageError(numbers);
  let ckpt: Ckpt | undefined;
  try {
    ckpt = await Ckpt.connect({ socket: values.socket ?? defaultSocketPath(), name: `totem ckpt ${sub}` });
    await command(ckpt, sub, rest, values, numbers);
    return 0;
  } catch (err) {
    if (err instanceof TotemError) {
      process.stderr.write(`totem ckpt: ${err.message}\n`);
      return 1;
    }
    throw err;
  } finally {
    await ckpt?.close();
  }
}

interface Numbers {
  sections?: number;
  sectionSize?: number;
  retention?: number;
}

function parseNumbers(values: Values): Numbers | string {
  const out: Numbers = {};
  const pairs: [keyof Numbers, string, string | undefined][] = [
    ['sections', '--sections', values.sections],
    ['sectionSize', '--section-size', values['section-size']],
    ['retention', '--retention', values.retention],
  ];
  for (const [key, flag, raw] of pairs) {
    if (raw === undefined) continue;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < (key === 'retention' ? 0 : 1)) return `${flag} takes an integer`;
    out[key] = n;
  }
  return out;
}

async function command(ckpt: Ckpt, sub: string, rest: string[], values: Values, n: Numbers): Promise<void> {
  const json = values.json ?? false;
  switch (sub) {
    case 'ls': {
      const list = await ckpt.list();
      if (json) out(JSON.stringify(list));
      else for (const c of list) out(`${c.name}\t${c.numberOfSections}\t${c.memoryUsed}\t${c.openHandles}`);
      return;
    }
    case 'create': {
      const cp = await ckpt.open(rest[0]!, {
        create: {
          ...(n.sections !== undefined ? { maxSections: n.sections } : {}),
          ...(n.sectionSize !== undefined ? { maxSectionSize: n.sectionSize } : {}),
          ...(n.retention !== undefined ? { retentionDuration: n.retention } : {}),
        },
      });
      await cp.close();
      return;
    }
    case 'write':
      return withHandle(ckpt, rest[0]!, true, async (cp) => {
        const [, section, data] = rest as [string, string, string];
        try {
          await cp.createSection(section, data);
        } catch (err) {
          if (!(err instanceof TotemError && 'aisName' in err && err.aisName === 'EXIST')) throw err;
          await cp.overwrite(section, data);
        }
      });
    case 'read':
      return withHandle(ckpt, rest[0]!, false, async (cp) => {
        process.stdout.write(await cp.read(rest[1]!));
        if (process.stdout.isTTY) process.stdout.write('\n');
      });
    case 'rm':
      return ckpt.unlink(rest[0]!);
    case 'sections':
      return withHandle(ckpt, rest[0]!, false, async (cp) => {
        const list = [];
        for await (const s of cp.sections()) list.push(s);
        if (json) {
          out(
            JSON.stringify(
              list.map((s) => ({
                id: s.name,
                size: s.size,
                expirationTime: s.expirationTime === TIME_END ? null : s.expirationTime,
              })),
            ),
          );
        } else {
          for (const s of list) {
            out(`${s.name}\t${s.size}\t${s.expirationTime === TIME_END ? 'never' : s.expirationTime}`);
          }
        }
      });
    case 'status':
      return withHandle(ckpt, rest[0]!, false, async (cp) => {
        const s = await cp.status();
        if (json) out(JSON.stringify(s, (_k, v) => (v === TIME_END ? null : v)));
        else {
          const a = s.attributes;
          out(`sections ${s.numberOfSections}/${a.maxSections}`);
          out(`bytes ${s.memoryUsed}/${a.checkpointSize}`);
          out(`max section size ${a.maxSectionSize}, max id size ${a.maxSectionIdSize}`);
          out(`retention ${a.retentionDuration === TIME_END ? 'forever' : `${a.retentionDuration} ms`}`);
          out(`creation flags 0x${a.creationFlags.toString(16)}`);
        }
      });
  }
}

async function withHandle(
  ckpt: Ckpt,
  name: string,
  write: boolean,
  fn: (cp: CheckpointHandle) => Promise<void>,
): Promise<void> {
  const cp = await ckpt.open(name, { read: true, write });
  try {
    await fn(cp);
  } finally {
    await cp.close().catch(() => {});
  }
}

function out(line: string): void {
  process.stdout.write(`${line}\n`);
}

function usageError(message: string): number {
  process.stderr.write(`totem ckpt: ${message}\n\n${USAGE}`);
  return 2;
}
