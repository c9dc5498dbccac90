/**
 * A load run by clients inside this process against every node of a local cluster, the
 * common part of the plock and checkpoint loads: per-node connections that follow the node
 * down and up, owners (simulated processes) each in its own loop, a pause gate, and the book
 * of operations in flight (for "no client stuck beyond a bound").
 *
 * The driver that kills nodes tells the load first (nodeDown), so that the load can end what
 * the node's clients held at that instant, and tells it again once the node is back (nodeUp).
 */
import type { NodeId } from '../core/io.js';

export interface LoadFinding {
  readonly kind: 'lock-conflict' | 'stuck' | 'replica' | 'client-error' | 'pause';
  readonly message: string;
}

export interface LoadCounters {
  /** Completed operations of every kind. */
  readonly ops: number;
  /** Lock operations (grants, unlocks, refusals); 0 for loads without locks. */
  readonly lockOps: number;
  readonly outstanding: number;
  /** Age of the oldest operation in flight, counted while the load is not paused. */
  readonly oldestMs: number;
  readonly errors: number;
  readonly [extra: string]: number;
}

export interface ClusterLoad {
  readonly name: string;
  /** Starts the owners on every node in `up` (the others start when they come up). */
  start(up: readonly NodeId[]): void;
  /** `node` is about to be killed (or was found dead) at time `t` of the load's clock. */
  nodeDown(node: NodeId, t: number): void;
  /** `node` is back in the ring: its owners connect again. */
  nodeUp(node: NodeId): void;
  /** Stops starting operations (held locks stay held); resolves once every owner stopped or waits. */
  pause(timeoutMs: number): Promise<LoadFinding[]>;
  resume(): void;
  /** While paused: do the nodes' replicas agree with each other and with the clients? */
  replicaCheck(timeoutMs: number): Promise<LoadFinding[]>;
  /** The invariants so far and the operations in flight beyond `stuckMs`. */
  check(stuckMs: number): LoadFinding[];
  counters(): LoadCounters;
  stop(): Promise<void>;
}

export interface Connection<C> {
  /** Unique over the run: node, generation, index. */
  readonly id: string;
  readonly node: NodeId;
  readonly client: C;
  lost: boolean;
}

interface NodeSlot<C> {
  up: boolean;
  generation: number;
  connections: Map<number, Promise<Connection<C> | undefined>>;
  waiters: (() => void)[];
}

interface InFlight {
  readonly what: string;
  readonly since: number;
}

export abstract class ClientLoad<C> implements ClusterLoad {
  abstract readonly name: string;
  protected stopped = false;
  private paused = false;
  private gateWaiters: (() => void)[] = [];
  private readonly nodes = new Map<NodeId, NodeSlot<C>>();
  private readonly inFlight = new Map<number, InFlight>();
  private nextOp = 1;
  private resumedAt: number;
  private readonly owners: Promise<void>[] = [];
  /** Owners stopped at the gate or in a wait that may legitimately block while paused. */
  private readonly parked = new Set<string>();
  private ownerCount = 0;
  protected readonly findings: LoadFinding[] = [];
  protected completed = 0;
  protected lockOps = 0;
  protected errors = 0;

  constructor(
    readonly allNodes: readonly NodeId[],
    readonly ownersPerNode: number,
    readonly connectionsPerNode: number,
    protected readonly clock: () => number,
  ) {
    for (const n of allNodes)
      this.nodes.set(n, { up: false, generation: 0, connections: new Map(), waiters: [] });
    this.resumedAt = clock();
  }

  /** Opens one client connection to `node`. */
  protected abstract connect(node: NodeId, name: string): Promise<C>;
  protected abstract closeClient(client: C): Promise<void>;
  /** One round of owner `owner` on `node` over `conn` (think, operate, hold...). */
  protected abstract ownerRound(node: NodeId, owner: number, conn: Connection<C>): Promise<void>;
  /** The connection is gone as of `t` (bookkeeping of what it held). */
  protected abstract onConnectionLost(conn: Connection<C>, t: number): void;

  start(up: readonly NodeId[]): void {
    for (const n of up) this.slot(n).up = true;
    for (const n of this.allNodes)
      for (let i = 0; i < this.ownersPerNode; i++) {
        this.ownerCount++;
        this.owners.push(this.ownerLoop(n, i));
      }
  }

  nodeDown(node: NodeId, t: number): void {
    const s = this.slot(node);
    s.up = false;
    const conns = [...s.connections.values()];
    s.connections.clear();
    s.generation++;
    for (const p of conns)
      void p.then((c) => {
        if (!c || c.lost) return;
        this.lose(c, t);
        void this.closeClient(c.client).catch(() => undefined);
      });
  }

  nodeUp(node: NodeId): void {
    const s = this.slot(node);
    s.up = true;
    const w = s.waiters;
    s.waiters = [];
    for (const wake of w) wake();
  }

  async pause(timeoutMs: number): Promise<LoadFinding[]> {
    this.paused = true;
    const deadline = this.clock() + timeoutMs;
    while (this.parked.size < this.ownerCount) {
      if (this.clock() > deadline)
        return [
          {
            kind: 'pause',
            message: `only ${this.parked.size} of ${this.ownerCount} owners stopped within ${timeoutMs} ms of the pause; in flight: ${this.describeInFlight(5)}`,
          },
        ];
      await delay(20);
    }
    return [];
  }

  resume(): void {
    this.paused = false;
    this.resumedAt = this.clock();
    const w = this.gateWaiters;
    this.gateWaiters = [];
    for (const wake of w) wake();
  }

  abstract replicaCheck(timeoutMs: number): Promise<LoadFinding[]>;

  check(stuckMs: number): LoadFinding[] {
    const out = [...this.findings];
    this.findings.length = 0;
    if (!this.paused) {
      const now = this.clock();
      for (const f of this.inFlight.values()) {
        const age = now - Math.max(f.since, this.resumedAt);
        if (age > stuckMs)
          out.push({
            kind: 'stuck',
            message: `${f.what} outstanding for ${age.toFixed(0)} ms (bound ${stuckMs} ms)`,
          });
      }
    }
    return out;
  }

  counters(): LoadCounters {
    const now = this.clock();
    let oldest = 0;
    if (!this.paused)
      for (const f of this.inFlight.values())
        oldest = Math.max(oldest, now - Math.max(f.since, this.resumedAt));
    return {
      ops: this.completed,
      lockOps: this.lockOps,
      outstanding: this.inFlight.size,
      oldestMs: oldest,
      errors: this.errors,
      ...this.extraCounters(),
    };
  }

  protected extraCounters(): Record<string, number> {
    return {};
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.resume();
    for (const s of this.nodes.values()) {
      for (const p of s.connections.values())
        void p.then((c) => (c ? this.closeClient(c.client).catch(() => undefined) : undefined));
      s.connections.clear();
      const w = s.waiters;
      s.waiters = [];
      for (const wake of w) wake();
    }
    await Promise.allSettled(this.owners);
  }

  /** Runs `op` in the book of operations in flight. */
  protected async tracked<T>(what: string, op: () => Promise<T>): Promise<T> {
    const id = this.nextOp++;
    this.inFlight.set(id, { what, since: this.clock() });
    try {
      return await op();
    } finally {
      this.inFlight.delete(id);
    }
  }

  /** Waits while the load is paused; `owner` counts as stopped meanwhile. */
  protected async gate(owner: string): Promise<void> {
    if (!this.paused || this.stopped) return;
    this.parked.add(owner);
    try {
      while (this.paused && !this.stopped) await new Promise<void>((r) => this.gateWaiters.push(r));
    } finally {
      this.parked.delete(owner);
    }
  }

  /** Runs `op` counting `owner` as stopped for the pause (a wait that may block on a paused holder). */
  protected async parkedDuring<T>(owner: string, op: () => Promise<T>): Promise<T> {
    this.parked.add(owner);
    try {
      return await op();
    } finally {
      this.parked.delete(owner);
    }
  }

  protected lose(conn: Connection<C>, t: number): void {
    if (conn.lost) return;
    conn.lost = true;
    this.onConnectionLost(conn, t);
  }

  /** A connection found broken by a call (not announced by nodeDown): replace it. */
  protected dropConnection(conn: Connection<C>): void {
    this.lose(conn, this.clock());
    const s = this.slot(conn.node);
    for (const [i, p] of s.connections)
      void p.then((c) => {
        if (c === conn && s.connections.get(i) === p) s.connections.delete(i);
      });
    void this.closeClient(conn.client).catch(() => undefined);
  }

  /** Every live connection of a node that is up (for replica checks). */
  protected async liveConnections(): Promise<Connection<C>[]> {
    const out: Connection<C>[] = [];
    for (const [n, s] of this.nodes) {
      if (!s.up) continue;
      const c = await this.connection(n, 0, false);
      if (c && !c.lost) out.push(c);
    }
    return out;
  }

  protected isUp(node: NodeId): boolean {
    return this.slot(node).up;
  }

  private async ownerLoop(node: NodeId, owner: number): Promise<void> {
    const key = `${node}/${owner}`;
    while (!this.stopped) {
      await this.gate(key);
      if (this.stopped) return;
      const s = this.slot(node);
      if (!s.up) {
        await this.parkedDuring(key, () => new Promise<void>((r) => s.waiters.push(r)));
        continue;
      }
      const conn = await this.connection(node, owner % this.connectionsPerNode, true);
      if (!conn) {
        await delay(100);
        continue;
      }
      try {
        await this.ownerRound(node, owner, conn);
      } catch (err) {
        if (this.stopped) return;
        this.errors++;
        this.findings.push({ kind: 'client-error', message: `owner ${key}: ${(err as Error).message}` });
      }
    }
  }

  private connection(node: NodeId, index: number, create: boolean): Promise<Connection<C> | undefined> {
    const s = this.slot(node);
    const have = s.connections.get(index);
    if (have) return have;
    if (!create && index !== 0) return Promise.resolve(undefined);
    const generation = s.generation;
    const id = `${node}.${generation}.${index}`;
    const p = this.connect(node, `load-${id}`).then(
      (client): Connection<C> | undefined => {
        const conn: Connection<C> = { id, node, client, lost: false };
        // The node went down while this connected: the connection belongs to the old incarnation.
        if (s.generation !== generation || !s.up) {
          conn.lost = true;
          void this.closeClient(client).catch(() => undefined);
          return undefined;
        }
        return conn;
      },
      () => {
        if (s.connections.get(index) === p) s.connections.delete(index);
        return undefined;
      },
    );
    s.connections.set(index, p);
    return p;
  }

  private slot(node: NodeId): NodeSlot<C> {
    const s = this.nodes.get(node);
    if (!s) throw new RangeError(`node ${node} is not part of this load`);
    return s;
  }

  private describeInFlight(max: number): string {
    const now = this.clock();
    const items = [...this.inFlight.values()]
      .slice(0, max)
      .map((f) => `${f.what} (${(now - f.since).toFixed(0)} ms)`);
    return items.length > 0 ? items.join('; ') : 'nothing';
  }
}

export function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
