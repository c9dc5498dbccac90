/**
 * The lock invariant over a grant/release log: no two conflicting locks held at once.
 * Two locks conflict when their owners differ, they are on the same inode of the same space,
 * their byte ranges overlap, and at least one is exclusive. "At once" is the overlap of their
 * logged intervals (see LockLog: each lies inside the truly held interval, so an overlap here
 * is a real violation, never an artefact of when the client heard).
 */
import type { HeldInterval } from './lock-log.js';

export interface LockConflict {
  readonly a: HeldInterval;
  readonly b: HeldInterval;
  readonly message: string;
}

export function conflicts(a: HeldInterval, b: HeldInterval): boolean {
  return (
    a.ownerKey !== b.ownerKey &&
    a.space === b.space &&
    a.inode === b.inode &&
    a.start <= b.end &&
    b.start <= a.end &&
    (a.exclusive || b.exclusive) &&
    // Empty intervals (a grant heard after the lock was already gone) hold nothing.
    a.from < a.to &&
    b.from < b.to &&
    a.from < b.to &&
    b.from < a.to
  );
}

/** Every conflicting pair (at most `limit`), by a sweep over each inode's intervals in time order. */
export function checkLocks(intervals: readonly HeldInterval[], limit = 20): LockConflict[] {
  const byInode = new Map<string, HeldInterval[]>();
  for (const iv of intervals) {
    if (!(iv.from < iv.to)) continue; // Empty: the grant was heard after the lock was already gone.
    const key = `${iv.space}\u0000${iv.inode}`;
    let list = byInode.get(key);
    if (!list) byInode.set(key, (list = []));
    list.push(iv);
  }
  const found: LockConflict[] = [];
  for (const list of byInode.values()) {
    list.sort((x, y) => x.from - y.from);
    let active: HeldInterval[] = [];
    for (const iv of list) {
      active = active.filter((a) => a.to > iv.from);
      for (const a of active) {
        if (!conflicts(a, iv)) continue;
        found.push({ a, b: iv, message: describe(a, iv) });
        if (found.length >= limit) return found;
      }
      active.push(iv);
    }
  }
  return found;
}

function show(iv: HeldInterval): string {
  const end = iv.end === Number.MAX_SAFE_INTEGER ? 'EOF' : String(iv.end);
  const to = Number.isFinite(iv.to) ? iv.to.toFixed(1) : 'still held';
  return `${iv.exclusive ? 'exclusive' : 'shared'} ${iv.space}/${iv.inode} [${iv.start}..${end}] by ${iv.ownerKey} from ${iv.from.toFixed(1)} to ${to} ms`;
}

function describe(a: HeldInterval, b: HeldInterval): string {
  return `conflicting locks held at once: ${show(a)}; ${show(b)}`;
}
