/**
 * The highest ring sequence number this node has used, kept in the state directory so that
 * a restarted node never reuses a ring id. One small file per node, replaced atomically
 * (write a temporary file, fsync it, rename over the old one, fsync the directory).
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { NodeId } from '../core/io.js';

export class RingSeqStoreError extends Error {
  override readonly name = 'RingSeqStoreError';
}

export class RingSeqStore {
  readonly path: string;
  private readonly dir: string;
  private last = -1;

  constructor(stateDir: string, nodeId: NodeId) {
    this.dir = stateDir;
    this.path = join(stateDir, `ringseq-${nodeId}`);
  }

  /** The stored ring seq, or 0 when nothing was stored yet. A damaged file is an error, not a 0. */
  load(): number {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
      throw err;
    }
    const trimmed = text.trim();
    if (!/^\d{1,16}$/.test(trimmed) || !Number.isSafeInteger(Number(trimmed))) {
      throw new RingSeqStoreError(
        `${this.path}: expected a ring sequence number, found ${JSON.stringify(text.slice(0, 40))}; ` +
          'remove the file only if no other node can remember a ring this node formed',
      );
    }
    this.last = Number(trimmed);
    return this.last;
  }

  save(seq: number): void {
    if (!Number.isSafeInteger(seq) || seq < 0) throw new RingSeqStoreError(`ring seq ${seq} is not storable`);
    if (seq === this.last) return;
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const tmp = `${this.path}.tmp-${process.pid}`;
    const fd = openSync(tmp, 'w', 0o600);
    try {
      writeSync(fd, `${seq}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.path);
    syncDir(this.dir);
    this.last = seq;
  }
}

function syncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Some file systems refuse fsync on a directory; the rename is still atomic there.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
