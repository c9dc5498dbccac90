import {
  chmodSync,
  closeSync,
  constants,
  mkdirSync,
  openSync,
  readdirSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EV } from './events/index.js';
import { fileSizeFor } from './format.js';
import { mapOpenFile } from './mmap.js';
import { Recorder } from './recorder.js';

/**
 * One flight-recorder ring per process, in a memory-mapped file under the run directory,
 * so that the ring is already on disk when the process dies of kill -9, abort or OOM.
 *
 * At start-up, rings left by dead processes are kept (renamed `fdata-*`) rather than
 * overwritten, and a retention count keeps the directory bounded.
 */

export interface ProcessRingOptions {
  readonly nodeId: number;
  /** Slots in the ring (power of two); default 262144 = 8 MiB of records. */
  readonly slots?: number;
  /** Default: $TOTEM_RUN_DIR, else /dev/shm/totem, else <tmpdir>/totem. */
  readonly runDir?: string;
  /** How many salvaged `fdata-*` rings to keep (default 16). */
  readonly retain?: number;
  readonly label?: string;
  /** Where a one-time notice goes (mapping unavailable); default stderr. */
  readonly log?: (line: string) => void;
  /** Test hook: pretend mapping is unavailable. */
  readonly forceHeap?: boolean;
}

export interface ProcessRing {
  readonly recorder: Recorder;
  /** The live ring file (mapped), or where a heap ring is dumped. */
  readonly path: string;
  readonly runDir: string;
  readonly mapped: boolean;
  /** Rings of dead processes renamed at start-up. */
  readonly salvaged: readonly string[];
  /** Writes a copy of the ring now; returns its path. */
  dump(path?: string): string;
  /** Makes sure the ring is on disk (a no-op for a mapped ring). */
  flush(): void;
  /** Records a clean close; a mapped ring's file stays for fplay, renamed as salvaged at next start. */
  close(reason: string): void;
}

export const DEFAULT_PROCESS_SLOTS = 262144;
export const DEFAULT_RETAIN = 16;

export function defaultRunDir(): string {
  const env = process.env.TOTEM_RUN_DIR;
  if (env) return env;
  try {
    if (statSync('/dev/shm').isDirectory()) return '/dev/shm/totem';
  } catch {
    // No /dev/shm (not Linux, or a container without it).
  }
  return join(tmpdir(), 'totem');
}

export function ensureRunDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = statSync(dir);
  if (typeof process.getuid === 'function' && st.uid === process.getuid()) chmodSync(dir, 0o700);
}

const LIVE_RING = /^fr-(\d+)-(\d+)\.ring$/;
const SALVAGED_RING = /^fdata-.*\.ring$/;

function pidAlive(pid: number): boolean {
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function stamp(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
}

/** Renames rings of dead processes to fdata-*, then trims fdata-* to the newest `retain`. */
export function salvageRings(dir: string, retain = DEFAULT_RETAIN): string[] {
  const salvaged: string[] = [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return salvaged;
  }
  for (const name of names) {
    const m = LIVE_RING.exec(name);
    if (!m || pidAlive(Number(m[2]))) continue;
    const from = join(dir, name);
    try {
      const to = join(dir, `fdata-${m[1]}-${m[2]}-${stamp(statSync(from).mtimeMs)}.ring`);
      renameSync(from, to);
      salvaged.push(to);
    } catch {
      // Another process salvaged it first.
    }
  }
  const kept = readdirSync(dir)
    .filter((n) => SALVAGED_RING.test(n))
    .map((n) => {
      try {
        return { path: join(dir, n), mtime: statSync(join(dir, n)).mtimeMs };
      } catch {
        return undefined;
      }
    })
    .filter((e): e is { path: string; mtime: number } => e !== undefined)
    .sort((a, b) => b.mtime - a.mtime || (a.path < b.path ? 1 : -1));
  for (const old of kept.slice(retain)) {
    try {
      unlinkSync(old.path);
    } catch {
      // Already gone.
    }
  }
  return salvaged;
}

/** Creates the file with O_EXCL and mode 0600, writing zeros so that ENOSPC shows now, not later. */
function createZeroed(path: string, size: number): number {
  const fd = openSync(path, constants.O_RDWR | constants.O_CREAT | constants.O_EXCL, 0o600);
  try {
    const block = Buffer.alloc(Math.min(size, 1 << 20));
    let written = 0;
    while (written < size)
      written += writeSync(fd, block, 0, Math.min(block.length, size - written), written);
  } catch (err) {
    closeSync(fd);
    unlinkSync(path);
    throw err;
  }
  return fd;
}

export function openProcessRing(opts: ProcessRingOptions): ProcessRing {
  const runDir = opts.runDir ?? defaultRunDir();
  const slots = opts.slots ?? DEFAULT_PROCESS_SLOTS;
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  ensureRunDir(runDir);
  const salvaged = salvageRings(runDir, opts.retain ?? DEFAULT_RETAIN);
  const livePath = join(runDir, `fr-${opts.nodeId}-${process.pid}.ring`);
  const size = fileSizeFor(slots);

  let recorder: Recorder;
  let mapped = false;
  let path = livePath;
  try {
    if (opts.forceHeap) throw new Error('heap ring requested');
    const fd = createZeroed(livePath, size);
    const buffer = mapOpenFile(fd, size);
    recorder = new Recorder({ slots, nodeId: opts.nodeId, buffer, mapped: true, label: opts.label ?? '' });
    mapped = true;
  } catch (err) {
    try {
      unlinkSync(livePath);
    } catch {
      // It was never created.
    }
    path = join(runDir, `fdata-${opts.nodeId}-${process.pid}-heap.ring`);
    log(
      `flight recorder: ${(err as Error).message}; keeping the ring in memory and dumping it to ${path} ` +
        'on assert, uncaught exception, exit and signals (it will not survive kill -9)',
    );
    recorder = new Recorder({ slots, nodeId: opts.nodeId, label: opts.label ?? '' });
  }

  // Written straight from the ring's memory: no copy, and nothing else writes while this runs.
  const writeCopy = (to: string): void => {
    writeFileSync(to, new Uint8Array(recorder.buffer, 0, size), { mode: 0o600 });
  };
  const flush = (): void => {
    if (!mapped) writeCopy(path);
  };
  recorder.onFailure = flush;
  let dumps = 0;
  return {
    recorder,
    path,
    runDir,
    mapped,
    salvaged,
    dump(to?: string): string {
      const target =
        to ?? join(runDir, `fdata-${opts.nodeId}-${process.pid}-dump${++dumps}-${stamp(Date.now())}.ring`);
      recorder.rec(EV.REC_DUMP, recorder.intern(target));
      writeCopy(target);
      return target;
    },
    flush,
    close(reason: string): void {
      recorder.markClosed(reason);
      flush();
    },
  };
}

/**
 * Process-level hooks: uncaught errors are recorded (and a heap ring dumped) without
 * changing Node's behaviour; SIGUSR2 dumps the ring on demand; exit marks a clean close.
 * Returns a function that removes the hooks.
 */
export function installRecorderHooks(ring: ProcessRing): () => void {
  const { recorder } = ring;
  const onError = (err: Error): void => {
    recorder.recNow(EV.REC_ERROR, recorder.intern(`${err?.name}: ${err?.message}`.slice(0, 200)));
    ring.flush();
  };
  const onUsr2 = (): void => {
    recorder.recNow(EV.REC_SIGNAL, recorder.intern('SIGUSR2'));
    ring.dump();
  };
  const onExit = (code: number): void => {
    ring.close(`exit ${code}`);
  };
  process.on('uncaughtExceptionMonitor', onError);
  process.on('SIGUSR2', onUsr2);
  process.on('exit', onExit);
  return () => {
    process.off('uncaughtExceptionMonitor', onError);
    process.off('SIGUSR2', onUsr2);
    process.off('exit', onExit);
  };
}
