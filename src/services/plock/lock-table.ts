/**
 * The POSIX byte-range lock state of one resource (one inode of one lock space): granted locks
 * and FIFO waiters. Pure and deterministic: every node that applies the same operations in the
 * same order holds the same table, in the same record order.
 *
 * POSIX rules (fcntl F_SETLK/F_GETLK): ranges are inclusive; locks of one owner never conflict
 * with each other; a new lock replaces the owner's overlapping ranges (splitting them) and
 * merges with its adjacent or overlapping ranges of the same type; unlocking cuts the owner's
 * ranges. Two owners conflict on overlapping ranges when either lock is exclusive.
 */

import type { LockRecord, OwnerId, WaiterRecord } from './types.js';

export function sameOwner(a: OwnerId, b: OwnerId): boolean {
  return a.nodeId === b.nodeId && a.client === b.client && a.owner === b.owner;
}

function overlaps(a: { start: number; end: number }, start: number, end: number): boolean {
  return a.start <= end && start <= a.end;
}

export function conflicts(
  held: LockRecord,
  want: OwnerId,
  start: number,
  end: number,
  exclusive: boolean,
): boolean {
  return !sameOwner(held, want) && overlaps(held, start, end) && (held.exclusive || exclusive);
}

/** Locks sort by start, then owner, so equal tables encode to equal bytes. */
function compareLocks(a: LockRecord, b: LockRecord): number {
  return a.start - b.start || a.nodeId - b.nodeId || a.client - b.client || a.owner - b.owner;
}

export class LockTable {
  locks: LockRecord[] = [];
  waiters: WaiterRecord[] = [];

  get empty(): boolean {
    return this.locks.length === 0 && this.waiters.length === 0;
  }

  /** F_GETLK: the first lock (in table order) that would conflict, or undefined. */
  test(owner: OwnerId, start: number, end: number, exclusive: boolean): LockRecord | undefined {
    return this.locks.find((l) => conflicts(l, owner, start, end, exclusive));
  }

  /** Grants the lock when nothing conflicts (true); otherwise changes nothing (false). */
  tryLock(lock: LockRecord): boolean {
    if (this.test(lock, lock.start, lock.end, lock.exclusive)) return false;
    this.set(lock);
    return true;
  }

  /** Adds the owner's lock unconditionally (the caller checked conflicts). */
  private set(lock: LockRecord): void {
    let start = lock.start;
    let end = lock.end;
    const kept: LockRecord[] = [];
    for (const l of this.locks) {
      if (!sameOwner(l, lock)) {
        kept.push(l);
        continue;
      }
      const touching = l.start <= end + 1 && start <= l.end + 1;
      if (touching && l.exclusive === lock.exclusive) {
        start = Math.min(start, l.start);
        end = Math.max(end, l.end);
      } else if (overlaps(l, lock.start, lock.end)) {
        cut(l, lock.start, lock.end, kept);
      } else {
        kept.push(l);
      }
    }
    kept.push({ ...ownerOf(lock), start, end, exclusive: lock.exclusive });
    this.locks = kept.sort(compareLocks);
  }

  /** Cuts [start, end] out of the owner's locks. True when anything changed. */
  unlock(owner: OwnerId, start: number, end: number): boolean {
    const kept: LockRecord[] = [];
    let changed = false;
    for (const l of this.locks) {
      if (sameOwner(l, owner) && overlaps(l, start, end)) {
        cut(l, start, end, kept);
        changed = true;
      } else kept.push(l);
    }
    if (changed) this.locks = kept.sort(compareLocks);
    return changed;
  }

  enqueue(w: WaiterRecord): void {
    this.waiters.push(w);
  }

  /** Removes the waiter of (origin node, client, reqId); returns it when it was there. */
  cancel(nodeId: number, client: number, reqId: number): WaiterRecord | undefined {
    const i = this.waiters.findIndex((w) => w.nodeId === nodeId && w.client === client && w.reqId === reqId);
    if (i < 0) return undefined;
    return this.waiters.splice(i, 1)[0];
  }

  /** Drops every lock and waiter matching `gone`; true when anything changed. */
  releaseWhere(gone: (o: OwnerId) => boolean): boolean {
    const locks = this.locks.filter((l) => !gone(l));
    const waiters = this.waiters.filter((w) => !gone(w));
    const changed = locks.length !== this.locks.length || waiters.length !== this.waiters.length;
    this.locks = locks;
    this.waiters = waiters;
    return changed;
  }

  /** Grants, in FIFO order, every waiter that no longer conflicts; returns the granted ones. */
  grantWaiters(): WaiterRecord[] {
    const granted: WaiterRecord[] = [];
    // A grant only adds locks: a waiter passed over stays blocked, so one pass finds them all.
    this.waiters = this.waiters.filter((w) => {
      if (!this.tryLock(w)) return true;
      granted.push(w);
      return false;
    });
    return granted;
  }

  clone(): LockTable {
    const t = new LockTable();
    t.locks = [...this.locks];
    t.waiters = [...this.waiters];
    return t;
  }
}

function ownerOf(o: OwnerId): OwnerId {
  return { nodeId: o.nodeId, client: o.client, owner: o.owner };
}

/** Pushes what remains of `l` outside [start, end]. */
function cut(l: LockRecord, start: number, end: number, out: LockRecord[]): void {
  if (l.start < start) out.push({ ...ownerOf(l), start: l.start, end: start - 1, exclusive: l.exclusive });
  if (l.end > end) out.push({ ...ownerOf(l), start: end + 1, end: l.end, exclusive: l.exclusive });
}
