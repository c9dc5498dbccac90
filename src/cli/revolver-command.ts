/**
 * `totem revolver`: kill -9 random daemons of a real local cluster under load, over and over,
 * checking locks, replicas, stuck clients and the flight-recorder rings (src/revolver/).
 */
import { randomInt } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { PlockConnect } from '../load/plock-api.js';
import { loadPlockConnect } from '../load/plock-connect.js';
import { failureCommands, writeFailureReadme } from '../revolver/failure-report.js';
import { type LoadName, type RevolverProgress, runRevolver, summarize } from '../revolver/revolver.js';
import { parseKillRange } from '../revolver/schedule.js';

const HELP = `usage: totem revolver [--nodes N] [--iterations N] [--kill MIN..MAX] [--load plock|ckpt]
                      [--seed N] [--token MS] [--dir DIR] [--keep] [--keep-rings]
                      [--ring-check-every N] [--stuck-ms MS] [--owners N]

Starts N daemons (default 5) on 127.0.0.1 and a client load on every node (plock: many owners
taking and releasing shared/exclusive locks on many inodes; ckpt: checkpoint writes), then
per iteration kills MIN..MAX random daemons with kill -9 (sometimes during the survivors'
membership change and sync), waits for the survivors' ring, restarts them, waits for the full
ring, and checks: no two conflicting locks held at once (the clients' own log), no client
operation outstanding beyond --stuck-ms, replicas identical on every node, and 'totem fplay
check' over every ring (every --ring-check-every iterations and at the end).

The seed (random unless --seed) is printed; the same seed gives the same kill schedule.
On a failure it stops, keeps the directory (rings, logs, seed, README.md) and prints the
commands to inspect it; on success the directory is removed unless --keep.
`;

export async function run(args: string[]): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        nodes: { type: 'string' },
        iterations: { type: 'string' },
        kill: { type: 'string' },
        load: { type: 'string' },
        seed: { type: 'string' },
        token: { type: 'string' },
        dir: { type: 'string' },
        keep: { type: 'boolean' },
        'keep-rings': { type: 'boolean' },
        'ring-check-every': { type: 'string' },
        'stuck-ms': { type: 'string' },
        owners: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    process.stderr.write(`totem revolver: ${(err as Error).message}\n\n${HELP}`);
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
  let opts: {
    nodes: number;
    iterations: number;
    seed: number;
    token: number;
    ringCheckEvery: number;
    stuckMs: number;
    owners: number | undefined;
  };
  let kill: ReturnType<typeof parseKillRange>;
  const load = (values.load as string | undefined) ?? 'plock';
  try {
    opts = {
      nodes: num('nodes', 5, 2, 9),
      iterations: num('iterations', 100, 1, 1_000_000),
      seed: num('seed', randomInt(1, 2 ** 31 - 1), 0, 2 ** 32 - 1),
      token: num('token', 1000, 100, 60_000),
      ringCheckEvery: num('ring-check-every', 10, 1, 1_000_000),
      stuckMs: num('stuck-ms', 30_000, 1000, 3_600_000),
      owners: values.owners === undefined ? undefined : num('owners', 8, 1, 256),
    };
    kill = parseKillRange((values.kill as string | undefined) ?? '1..2');
    if (kill.max >= opts.nodes)
      throw new RangeError(
        `--kill ${kill.min}..${kill.max}: at least one of ${opts.nodes} nodes must survive`,
      );
    if (load !== 'plock' && load !== 'ckpt')
      throw new RangeError(`--load: expected plock or ckpt, got "${load}"`);
  } catch (err) {
    process.stderr.write(`totem revolver: ${(err as Error).message}\n`);
    return 2;
  }
  let plockConnect: PlockConnect | undefined;
  if (load === 'plock') {
    try {
      plockConnect = await loadPlockConnect();
    } catch (err) {
      process.stderr.write(`totem revolver: ${(err as Error).message}\n`);
      return 2;
    }
  }
  const dir = values.dir ? resolve(values.dir as string) : mkdtempSync(join(tmpdir(), 'totem-revolver-'));
  const rerun = `npx totem revolver --nodes ${opts.nodes} --iterations ${opts.iterations} --kill ${kill.min}..${kill.max} --load ${load} --seed ${opts.seed} --token ${opts.token}`;
  process.stdout.write(
    `revolver: ${opts.nodes} nodes, ${opts.iterations} iterations, kill ${kill.min}..${kill.max}, load ${load}, seed ${opts.seed}\n  in ${dir}\n`,
  );
  const tty = process.stdout.isTTY === true;
  const bar = new ProgressLine(tty);
  const abort = new AbortController();
  const onSignal = (): void => abort.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let result: Awaited<ReturnType<typeof runRevolver>>;
  try {
    result = await runRevolver({
      nodes: opts.nodes,
      iterations: opts.iterations,
      kill,
      load: load as LoadName,
      seed: opts.seed,
      dir,
      token: opts.token,
      ringCheckEvery: opts.ringCheckEvery,
      stuckMs: opts.stuckMs,
      recoveryBoundMs: Math.max(60_000, opts.token * 30),
      keepRings: values['keep-rings'] === true,
      ...(opts.owners === undefined ? {} : { ownersPerNode: opts.owners }),
      ...(plockConnect ? { plockConnect } : {}),
      signal: abort.signal,
      onProgress: (p) => bar.update(p),
    });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    bar.end();
  }
  for (const line of summarize(result)) process.stdout.write(`${line}\n`);
  if (result.failure) {
    const readme = writeFailureReadme(result, rerun);
    process.stdout.write(
      `\nFAILED ${result.failure.phase === 'final check' ? 'in the final check' : `in iteration ${result.failure.iteration} (${result.failure.phase})`}:\n`,
    );
    for (const f of result.failure.findings.slice(0, 10)) process.stdout.write(`  ${f}\n`);
    process.stdout.write(`\nkept: ${result.dir} (seed ${result.seed}; ${readme})\ninspect:\n`);
    for (const c of failureCommands(result, rerun)) process.stdout.write(`  ${c}\n`);
    return 1;
  }
  process.stdout.write(result.aborted ? 'interrupted: clean so far\n' : 'clean\n');
  if (values.keep || values.dir) process.stdout.write(`kept: ${result.dir}\n`);
  else rmSync(result.dir, { recursive: true, force: true });
  return result.aborted ? 130 : 0;
}

class ProgressLine {
  private lastOps = 0;
  private lastAt = 0;
  private rate = 0;
  private lastPrinted = 0;
  private shown = false;

  constructor(private readonly tty: boolean) {}

  update(p: RevolverProgress): void {
    const dt = (p.elapsedMs - this.lastAt) / 1000;
    if (dt >= 0.5) {
      this.rate = (p.counters.lockOps || p.counters.ops) - this.lastOps;
      this.rate /= dt;
      this.lastOps = p.counters.lockOps || p.counters.ops;
      this.lastAt = p.elapsedMs;
    }
    const s = (v: number | undefined): string => (v === undefined ? '-' : `${(v / 1000).toFixed(1)}s`);
    const width = 20;
    const filled = Math.round((p.iteration / Math.max(1, p.iterations)) * width);
    const text =
      `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] it ${p.iteration}/${p.iterations} ${p.phase.padEnd(10)} ` +
      `kills ${p.kills}  recovery ${s(p.lastKillRecoveryMs)}/${s(p.lastRestartRecoveryMs)}  ` +
      `${p.counters.lockOps > 0 ? 'lock ' : ''}ops/s ${this.rate.toFixed(0)}  ops ${p.counters.ops}  in flight ${p.counters.outstanding}`;
    if (this.tty) {
      process.stdout.write(`\r\x1b[2K${text}`);
      this.shown = true;
    } else if (p.elapsedMs - this.lastPrinted >= 10_000) {
      this.lastPrinted = p.elapsedMs;
      process.stdout.write(`${(p.elapsedMs / 1000).toFixed(0)}s ${text}\n`);
    }
  }

  end(): void {
    if (this.tty && this.shown) process.stdout.write('\n');
  }
}
