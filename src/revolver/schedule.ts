/**
 * The revolver's kill schedule: a pure function of the seed, so one seed names one schedule
 * (which nodes die, how the kills are timed) whatever the cluster's timing did meanwhile.
 */
import type { NodeId } from '../core/io.js';
import { Prng } from '../sim/prng.js';

export interface KillRange {
  readonly min: number;
  readonly max: number;
}

export interface IterationPlan {
  readonly iteration: number;
  /** Nodes to kill with SIGKILL, in kill order. */
  readonly victims: readonly NodeId[];
  /**
   * Delay between one kill and the next (ms). Non-zero places the later kills while the
   * survivors are already forming a new ring and syncing.
   */
  readonly staggerMs: number;
  /**
   * Restart the victims this long after the last kill, without waiting for the survivors'
   * ring (the restart lands during the membership change and its sync); undefined: restart
   * once the survivors formed their ring.
   */
  readonly earlyRestartMs: number | undefined;
  /** Load time once the full ring is back, before the next iteration. */
  readonly runMs: number;
}

export interface ScheduleOptions {
  readonly seed: number;
  readonly nodes: readonly NodeId[];
  readonly kill: KillRange;
  /** The token timeout: sync-time kills and restarts are placed within a few of these. */
  readonly tokenMs: number;
  readonly runMs?: readonly [number, number];
}

/** Parses "1..2" (or "2"). */
export function parseKillRange(text: string): KillRange {
  const m = /^(\d+)(?:\.\.(\d+))?$/.exec(text.trim());
  if (!m) throw new RangeError(`--kill: expected MIN..MAX or N, got "${text}"`);
  const min = Number(m[1]);
  const max = Number(m[2] ?? m[1]);
  if (!(min >= 1 && max >= min)) throw new RangeError(`--kill: expected 1 <= MIN <= MAX, got "${text}"`);
  return { min, max };
}

export class KillSchedule {
  private readonly prng: Prng;
  private iteration = 0;

  constructor(readonly options: ScheduleOptions) {
    if (options.kill.max >= options.nodes.length)
      throw new RangeError(
        `--kill ${options.kill.min}..${options.kill.max}: at least one of ${options.nodes.length} nodes must survive`,
      );
    this.prng = new Prng(options.seed);
  }

  next(): IterationPlan {
    const p = this.prng;
    const o = this.options;
    this.iteration++;
    const count = p.range(o.kill.min, o.kill.max);
    const pool = [...o.nodes];
    const victims: NodeId[] = [];
    for (let i = 0; i < count; i++) victims.push(pool.splice(p.int(pool.length), 1)[0]!);
    // About a third of multi-kills land while the first one's membership change is under way.
    const staggerMs = victims.length > 1 && p.chance(0.35) ? Math.round(p.uniform(0.2, 2.5) * o.tokenMs) : 0;
    // About a quarter restart during the survivors' membership change instead of after it.
    const earlyRestartMs = p.chance(0.25) ? Math.round(p.uniform(0, 2) * o.tokenMs) : undefined;
    const [lo, hi] = o.runMs ?? [300, 1500];
    return {
      iteration: this.iteration,
      victims,
      staggerMs,
      earlyRestartMs,
      runMs: Math.round(p.uniform(lo, hi)),
    };
  }
}
