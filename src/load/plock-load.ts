/**
 * The plock load against a real cluster: the PlockWorkload's owners on every node, each over
 * one of the node's client connections, logging grants and releases with one clock (this
 * process's), checked by checkLocks. Replica check (paused): every node lists the same
 * granted locks, and exactly the locks its clients believe they hold.
 */
import type { NodeId } from '../core/io.js';
import { ClientLoad, type Connection, delay, type LoadFinding } from './cluster-load.js';
import { checkLocks } from './lock-checker.js';
import { LockLog } from './lock-log.js';
import type { PlockClientLike, PlockConnect, PlockHolderLike } from './plock-api.js';
import { plockErrorCode } from './plock-api.js';
import type { PlockWorkload } from './plock-workload.js';

export interface PlockLoadOptions {
  readonly nodes: readonly NodeId[];
  readonly socket: (node: NodeId) => string;
  readonly connect: PlockConnect;
  readonly workload: PlockWorkload;
  readonly ownersPerNode?: number;
  readonly connectionsPerNode?: number;
  readonly clock: () => number;
}

/** Errors that mean the connection (or its daemon) is gone, not that the cluster misbehaved. */
const CONNECTION_GONE = new Set(['NOT_CONNECTED', 'LIBRARY']);
/** Refusals to retry later (a sync round, a full queue): the round is skipped. */
const TRY_LATER = new Set(['TRY_AGAIN', 'CANCELLED']);

export class PlockLoad extends ClientLoad<PlockClientLike> {
  readonly name = 'plock';
  readonly log = new LockLog();
  private wouldBlock = 0;

  constructor(private readonly opts: PlockLoadOptions) {
    super(opts.nodes, opts.ownersPerNode ?? 8, opts.connectionsPerNode ?? 2, opts.clock);
  }

  /** Owner numbers (the u32 a client chooses, like a pid) are unique over the cluster. */
  static ownerNumber(node: NodeId, owner: number): number {
    return node * 1000 + owner + 1;
  }

  protected connect(node: NodeId, name: string): Promise<PlockClientLike> {
    return this.opts.connect(this.opts.socket(node), name);
  }

  protected closeClient(client: PlockClientLike): Promise<void> {
    return client.close();
  }

  protected onConnectionLost(conn: Connection<PlockClientLike>, t: number): void {
    this.log.connectionLost(conn.id, t);
  }

  protected override extraCounters(): Record<string, number> {
    return {
      grants: this.log.grants,
      releases: this.log.releases,
      wouldBlock: this.wouldBlock,
      held: this.log.held().length,
    };
  }

  protected async ownerRound(node: NodeId, owner: number, conn: Connection<PlockClientLike>): Promise<void> {
    const key = `${node}/${owner}`;
    const plan = this.opts.workload.plan(key);
    if (plan.thinkMs > 0) await delay(plan.thinkMs);
    await this.gate(key);
    if (conn.lost || this.stopped) return;
    const target = { ...plan.range, owner: PlockLoad.ownerNumber(node, owner) };
    const what = `${plan.wait ? 'lock wait' : 'lock try'} ${plan.exclusive ? 'ex' : 'sh'} ${target.space}/${target.inode} [${target.start}..] by ${conn.id}#${target.owner}`;
    const ask = (): Promise<void> =>
      this.tracked(what, () => conn.client.lock({ ...target, exclusive: plan.exclusive, wait: plan.wait }));
    try {
      // A blocking wait may sit behind a holder that the pause stopped: it counts as stopped.
      await (plan.wait ? this.parkedDuring(key, ask) : ask());
    } catch (err) {
      const code = plockErrorCode(err) ?? (err as { codeName?: string }).codeName;
      if (code === 'WOULD_BLOCK') {
        this.wouldBlock++;
        this.lockOps++;
        this.completed++;
        return;
      }
      if (conn.lost || this.stopped) return;
      if (code !== undefined && TRY_LATER.has(code)) return;
      if (code !== undefined && CONNECTION_GONE.has(code)) {
        if (this.isUp(node)) this.dropConnection(conn);
        return;
      }
      throw err;
    }
    const ownerKey = `${conn.id}#${target.owner}`;
    const id = this.log.granted(ownerKey, node, conn.id, plan.range, plan.exclusive, this.clock());
    this.lockOps++;
    this.completed++;
    if (plan.holdMs > 0) await delay(plan.holdMs);
    // Paused while holding: the lock stays held, for the replica check to see.
    await this.gate(key);
    this.log.released(id, this.clock());
    if (conn.lost || this.stopped) return;
    try {
      await this.tracked(`unlock ${target.space}/${target.inode} by ${ownerKey}`, () =>
        conn.client.unlock(target),
      );
      this.lockOps++;
      this.completed++;
    } catch (err) {
      if (conn.lost || this.stopped) return;
      const code = plockErrorCode(err) ?? (err as { codeName?: string }).codeName;
      if (code !== undefined && CONNECTION_GONE.has(code)) {
        this.dropConnection(conn);
        return;
      }
      throw err;
    }
  }

  override check(stuckMs: number): LoadFinding[] {
    const out = super.check(stuckMs);
    for (const c of checkLocks(this.log.intervals())) out.push({ kind: 'lock-conflict', message: c.message });
    // Long runs: an interval that ended before every open one (and every later one) began can
    // conflict with nothing not checked just now.
    // (Not after a conflict: the log is kept whole for the failure directory.)
    if (out.every((f) => f.kind !== 'lock-conflict')) {
      const horizon = this.log.held().reduce((m, h) => Math.min(m, h.from), this.clock());
      this.log.forgetBefore(horizon);
    }
    return out;
  }

  /**
   * Paused: the locks the nodes list are exactly the locks the clients believe they hold.
   * A node lists what it knows (a resource owned by another node may show only there), so
   * every node's list must lie within the clients' set and together they must cover it.
   * (That the members' replicated tables agree is the daemons' digest, compared apart.)
   */
  async replicaCheck(timeoutMs: number): Promise<LoadFinding[]> {
    const deadline = this.clock() + timeoutMs;
    const space = this.opts.workload.options.space;
    for (;;) {
      const conns = await this.liveConnections();
      const lists = await Promise.all(
        conns.map((c) =>
          c.client.list(space).then(
            (l) => l.map(show),
            (err: Error) => [`list failed: ${err.message}`],
          ),
        ),
      );
      const live = new Set(conns.map((c) => c.node));
      const expected = new Set(
        this.log
          .held()
          .filter((h) => live.has(h.node))
          .map((h) => show({ ...h, nodeId: h.node, owner: Number(h.ownerKey.split('#')[1]) })),
      );
      const problems: string[] = [];
      const union = new Set<string>();
      lists.forEach((l, i) => {
        const extra = l.filter((x) => !expected.has(x));
        for (const x of l) union.add(x);
        if (extra.length > 0)
          problems.push(`node ${conns[i]!.node} lists locks no client holds: ${extra.join(' ')}`);
      });
      const missing = [...expected].filter((x) => !union.has(x));
      if (missing.length > 0) problems.push(`held by clients but listed by no node: ${missing.join(' ')}`);
      if (problems.length === 0) return [];
      if (this.clock() > deadline)
        return [{ kind: 'replica', message: `lock tables after ${timeoutMs} ms: ${problems.join('; ')}` }];
      await delay(100);
    }
  }
}

function show(h: PlockHolderLike): string {
  return `${h.space}/${h.inode}[${h.start}..${h.end}]${h.exclusive ? 'x' : 's'}@${h.nodeId}#${h.owner}`;
}
