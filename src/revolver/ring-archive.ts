/**
 * The rings of killed daemons over a long run. A daemon that starts renames the rings of dead
 * processes in the ring directory to fdata-* and keeps only the newest few; the revolver moves
 * them into windows of its own (DIR/rings-killed/wNNNN) before that retention can drop any,
 * checks each window together with the live rings, and (unless told to keep everything) frees
 * windows two behind a clean check.
 */
import { mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { type CheckReport, checkRings } from '../recorder/check.js';
import { loadRings } from '../recorder/load.js';

export class RingArchive {
  readonly root: string;
  private window = 1;
  private readonly keepAll: boolean;

  constructor(
    dir: string,
    private readonly ringDir: string,
    keepAll: boolean,
  ) {
    this.root = join(dir, 'rings-killed');
    this.keepAll = keepAll;
    mkdirSync(this.current(), { recursive: true });
  }

  current(): string {
    return join(this.root, `w${String(this.window).padStart(4, '0')}`);
  }

  private windowDir(w: number): string {
    return join(this.root, `w${String(w).padStart(4, '0')}`);
  }

  /** Moves salvaged rings (fdata-*) out of the daemons' ring directory into the current window. */
  collect(): number {
    let moved = 0;
    for (const name of safeList(this.ringDir)) {
      if (!/^fdata-.*\.ring$/.test(name)) continue;
      try {
        renameSync(join(this.ringDir, name), join(this.current(), name));
        moved++;
      } catch {
        // A starting daemon trimmed it first.
      }
    }
    return moved;
  }

  /** Every ring directory a full check reads now. */
  inputs(): string[] {
    const dirs = [this.ringDir];
    for (const w of [this.window - 1, this.window]) {
      if (w < 1) continue;
      const d = this.windowDir(w);
      if (safeList(d).some((n) => n.endsWith('.ring'))) dirs.push(d);
    }
    return dirs;
  }

  /** fplay check over the live rings and the last two windows of killed ones; then a new window. */
  check(): { report: CheckReport; rings: number; errors: string[] } {
    this.collect();
    const { images, errors } = loadRings(this.inputs());
    const report = checkRings(images);
    if (report.findings.length === 0) {
      if (!this.keepAll && this.window >= 2)
        rmSync(this.windowDir(this.window - 1), { recursive: true, force: true });
      this.window++;
      mkdirSync(this.current(), { recursive: true });
    }
    return { report, rings: images.length, errors: errors.filter((e) => !e.includes('no .ring files')) };
  }

  /** Every directory holding rings (for the failure README). */
  allDirs(): string[] {
    return [
      this.ringDir,
      ...safeList(this.root)
        .sort()
        .map((w) => join(this.root, w)),
    ];
  }
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
