/**
 * The decisions of the plock load ("bench" in the original): many owners (processes) on each
 * node take a shared or exclusive lock on a random byte range of one of many inodes, hold it a
 * while, release it, think a while, and again. Sans-IO: a plan is a pure function of the
 * owner's own seeded stream, so a driver (the real clients of the revolver and `totem start`,
 * or the simulator) replays the same decisions from the same seed whatever the interleaving.
 */
import { Prng } from '../sim/prng.js';
import type { LockRange } from './lock-log.js';

/** "To end of file" (l_len = 0), as the plock client spells it. */
export const TO_EOF = Number.MAX_SAFE_INTEGER;

export interface PlockWorkloadOptions {
  readonly seed: number;
  /** The lock space every owner uses. */
  readonly space: string;
  readonly inodes: number;
  /** Ranges start below this byte; lengths are 1..maxLength (or to EOF). */
  readonly fileSize: number;
  readonly maxLength: number;
  /** Share of exclusive (write) locks. */
  readonly exclusiveRatio: number;
  /** Share of non-blocking attempts (F_SETLK; the rest wait, F_SETLKW). */
  readonly tryRatio: number;
  /** Share of to-EOF ranges. */
  readonly eofRatio: number;
  readonly holdMs: readonly [number, number];
  readonly thinkMs: readonly [number, number];
  /**
   * Optional skew: a share (`hotRatio`) of the plans go to the first `hotInodes` inodes, the
   * rest spread over all of them. Many resources (each one a checkpoint section at sync) with
   * contention on a few. Absent: uniform.
   */
  readonly hotInodes?: number;
  readonly hotRatio?: number;
}

export const DEFAULT_PLOCK_WORKLOAD: Omit<PlockWorkloadOptions, 'seed'> = {
  space: 'revolver',
  inodes: 32,
  fileSize: 4096,
  maxLength: 1024,
  exclusiveRatio: 0.5,
  tryRatio: 0.2,
  eofRatio: 0.05,
  holdMs: [0, 20],
  thinkMs: [0, 20],
};

export interface LockPlan {
  readonly range: LockRange;
  readonly exclusive: boolean;
  /** Wait for the lock (F_SETLKW), or fail at once on a conflict (F_SETLK). */
  readonly wait: boolean;
  /** Think before asking. */
  readonly thinkMs: number;
  /** Hold once granted. */
  readonly holdMs: number;
}

export class PlockWorkload {
  private readonly owners = new Map<string, Prng>();

  constructor(readonly options: PlockWorkloadOptions) {
    if (!(options.inodes > 0 && options.fileSize > 0 && options.maxLength > 0))
      throw new RangeError('plock workload: inodes, fileSize and maxLength must be positive');
  }

  /** The next plan of `owner` (any stable name: "node/owner"); its stream is its own. */
  plan(owner: string): LockPlan {
    const p = this.stream(owner);
    const o = this.options;
    const start = p.int(o.fileSize);
    const end = p.chance(o.eofRatio) ? TO_EOF : start + p.int(o.maxLength);
    return {
      range: { space: o.space, inode: this.inode(p), start, end },
      exclusive: p.chance(o.exclusiveRatio),
      wait: !p.chance(o.tryRatio),
      thinkMs: Math.round(p.uniform(o.thinkMs[0], o.thinkMs[1])),
      holdMs: Math.round(p.uniform(o.holdMs[0], o.holdMs[1])),
    };
  }

  private inode(p: Prng): number {
    const o = this.options;
    const hot = Math.min(o.hotInodes ?? 0, o.inodes);
    // The skew's draw comes last so that plans without it draw exactly as before.
    const n = p.int(o.inodes);
    return hot > 0 && p.chance(o.hotRatio ?? 0) ? n % hot : n;
  }

  private stream(owner: string): Prng {
    let p = this.owners.get(owner);
    if (!p) {
      // Seeded from the workload seed and the owner's name only: not from who asked first.
      p = new Prng(ownerSeed(this.options.seed, owner));
      this.owners.set(owner, p);
    }
    return p;
  }
}

/** The seed of one owner's stream: from the run's seed and the owner's name only. */
export function ownerSeed(seed: number, owner: string): number {
  return (seed ^ hash32(owner)) >>> 0;
}

function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
