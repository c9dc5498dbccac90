/**
 * The grant/release log of a lock load, kept by the clients themselves with one clock.
 *
 * A lock is logged as held from the moment its grant reached the client until the moment the
 * client sent its unlock (or its connection was declared lost). Both ends are on the safe side
 * of the truth: the daemon granted before the client heard, and released after the client
 * asked. So the logged interval lies inside the interval the cluster really held the lock,
 * and two logged intervals that conflict prove that the cluster granted a conflict. Nothing
 * here reads a clock: every time is passed in.
 */

export interface LockRange {
  readonly space: string;
  readonly inode: number;
  /** First byte, inclusive. */
  readonly start: number;
  /** Last byte, inclusive. */
  readonly end: number;
}

export interface HeldInterval extends LockRange {
  /** Cluster-wide owner identity: node, connection, owner number. */
  readonly ownerKey: string;
  readonly node: number;
  readonly exclusive: boolean;
  /** When the client heard of the grant. */
  readonly from: number;
  /** When the client sent its unlock or lost its connection; Infinity while held. */
  readonly to: number;
}

interface OpenLock extends LockRange {
  readonly ownerKey: string;
  readonly node: number;
  readonly connection: string;
  readonly exclusive: boolean;
  readonly from: number;
}

export class LockLog {
  private readonly closed: HeldInterval[] = [];
  private readonly open = new Map<number, OpenLock>();
  /** Connections declared lost, with when: grants heard on them later prove nothing. */
  private readonly lostConnections = new Map<string, number>();
  private nextId = 1;
  grants = 0;
  releases = 0;

  /**
   * A grant heard by the client at `t`. Returns the id to release it with, or undefined when
   * the connection was already lost (the lock may be dropped cluster-wide at any moment).
   */
  granted(
    ownerKey: string,
    node: number,
    connection: string,
    range: LockRange,
    exclusive: boolean,
    t: number,
  ): number | undefined {
    this.grants++;
    if (this.lostConnections.has(connection)) return undefined;
    const id = this.nextId++;
    this.open.set(id, { ...pick(range), ownerKey, node, connection, exclusive, from: t });
    return id;
  }

  /** The client sent the unlock at `t` (whatever its outcome: the daemon releases no earlier). */
  released(id: number | undefined, t: number): void {
    if (id === undefined) return;
    const o = this.open.get(id);
    if (!o) return; // Already ended by the loss of its connection.
    this.releases++;
    this.end(id, o, t);
  }

  /**
   * The connection is gone as of `t` (its node killed, its socket closed): every lock held on
   * it ends then, because the cluster drops them no earlier than that.
   */
  connectionLost(connection: string, t: number): void {
    if (!this.lostConnections.has(connection)) this.lostConnections.set(connection, t);
    for (const [id, o] of this.open) if (o.connection === connection) this.end(id, o, t);
  }

  /** Every interval, closed and still open (to = Infinity). */
  intervals(): HeldInterval[] {
    const open = [...this.open.values()].map((o) => interval(o, Number.POSITIVE_INFINITY));
    return [...this.closed, ...open];
  }

  /** Locks the clients believe they hold now, per owner. */
  held(): HeldInterval[] {
    return [...this.open.values()].map((o) => interval(o, Number.POSITIVE_INFINITY));
  }

  /** Forgets closed intervals that ended before `t` (bounded memory on long runs). */
  forgetBefore(t: number): void {
    let kept = 0;
    for (const c of this.closed) if (c.to >= t) this.closed[kept++] = c;
    this.closed.length = kept;
  }

  private end(id: number, o: OpenLock, t: number): void {
    this.open.delete(id);
    this.closed.push(interval(o, Math.max(o.from, t)));
  }
}

function pick(r: LockRange): LockRange {
  return { space: r.space, inode: r.inode, start: r.start, end: r.end };
}

function interval(o: OpenLock, to: number): HeldInterval {
  return {
    ownerKey: o.ownerKey,
    node: o.node,
    space: o.space,
    inode: o.inode,
    start: o.start,
    end: o.end,
    exclusive: o.exclusive,
    from: o.from,
    to,
  };
}
