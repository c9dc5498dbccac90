/**
 * The `plock` load's clients: on every node, owners (the processes of gfs_controld's "bench")
 * drive the revolver's sans-IO PlockWorkload (src/load/plock-workload.ts) against the node's
 * PlockService, on the virtual clock: think, ask for a lock (blocking or try), hold it, release
 * it, again. Grants and releases go into the run's one LockLog (src/load/lock-log.ts) with the
 * virtual time, which the PlockInvariants check with the revolver's checkLocks.
 *
 * Owners share a few client connections per node (the service's ClientId); now and then a
 * connection closes (the service releases its locks and drops its waits cluster-wide) and a new
 * one takes its place. Once the workload period is over, owners finish what they hold and ask
 * nothing new, so a settled run ends with no lock held and every request answered.
 */
import type { NodeId } from '../../core/io.js';
import type { LockLog } from '../../load/lock-log.js';
import { type LockPlan, PlockWorkload, type PlockWorkloadOptions } from '../../load/plock-workload.js';
import type { CkptReply } from '../../services/ckpt/types.js';
import type { PlockService } from '../../services/plock/plock-service.js';
import type { ClientId, PlockReply, PlockRequest } from '../../services/plock/types.js';
import type { Fail, LoadClient, LoadNode } from './load.js';

export interface PlockSimOptions {
  /** Virtual ms between two steps of a node's clients. */
  readonly stepMs?: number;
  readonly ownersPerNode?: number;
  readonly connectionsPerNode?: number;
  /** Chance per step that one of the node's connections closes (and a new one opens). */
  readonly closeChance?: number;
  readonly workload?: Partial<Omit<PlockWorkloadOptions, 'seed'>>;
  /** Test-only: logs a granted lock as held from when it was asked (proves the conflict check fails). */
  readonly plantHeldFromAsk?: boolean;
}

/** Few inodes and short ranges: owners of different nodes meet on the same bytes often. */
export const SIM_PLOCK_WORKLOAD: Omit<PlockWorkloadOptions, 'seed'> = {
  space: 'sim',
  inodes: 320,
  hotInodes: 10,
  hotRatio: 0.35,
  fileSize: 256,
  maxLength: 96,
  exclusiveRatio: 0.5,
  tryRatio: 0.25,
  eofRatio: 0.05,
  holdMs: [0, 60],
  thinkMs: [10, 120],
};

/** What the clients need of the run's checks (PlockInvariants). */
export interface PlockLedger {
  readonly log: LockLog;
  readonly fail: Fail;
  now(): number;
}

interface Connection {
  readonly client: ClientId;
  /** Unique in the run: node, incarnation, client id and the node's state epoch. */
  id: string;
}

type Phase = 'think' | 'ask' | 'hold' | 'unlock';

interface Owner {
  readonly index: number;
  readonly number: number;
  conn: Connection;
  phase: Phase;
  until: number;
  plan: LockPlan | undefined;
  reqId: number;
  logId: number | undefined;
  askedAt: number;
}

interface Outstanding {
  readonly owner: Owner;
  readonly kind: 'lock' | 'unlock';
  readonly issuedAt: number;
  readonly wait: boolean;
}

export class PlockSimClient implements LoadClient {
  private readonly workload: PlockWorkload;
  private readonly plock: PlockService;
  private readonly owners: Owner[] = [];
  private readonly outstanding = new Map<string, Outstanding>();
  /** Answered requests (client:reqId → how and when), to name a second answer as such. */
  private readonly answered = new Map<string, string>();
  private nextClient = 1;
  private nextReq = 1;
  private epoch = 0;
  private seenDiscards = 0;
  private readonly counts: Record<string, number> = {
    requests: 0,
    grants: 0,
    waitGrants: 0,
    wouldBlock: 0,
    tryAgain: 0,
    unlocks: 0,
    closes: 0,
    droppedByDiscard: 0,
    maxWaitMs: 0,
  };

  constructor(
    private readonly node: LoadNode,
    private readonly ledger: PlockLedger,
    private readonly opts: PlockSimOptions,
  ) {
    if (!node.stack.plock) throw new Error('the plock load needs a stack with the plock service');
    this.plock = node.stack.plock;
    this.workload = new PlockWorkload({ ...SIM_PLOCK_WORKLOAD, ...opts.workload, seed: node.prng.u32() });
    const conns: Connection[] = [];
    for (let k = 0; k < (opts.connectionsPerNode ?? 2); k++) conns.push(this.openConnection());
    for (let i = 0; i < (opts.ownersPerNode ?? 3); i++)
      this.owners.push({
        index: i,
        // Unique over the cluster, like the revolver's owner numbers (pids).
        number: node.nodeId * 1000 + i + 1,
        conn: conns[i % conns.length]!,
        phase: 'think',
        until: 0,
        plan: undefined,
        reqId: 0,
        logId: undefined,
        askedAt: 0,
      });
  }

  get nodeId(): NodeId {
    return this.node.nodeId;
  }

  private openConnection(): Connection {
    const client = this.nextClient++;
    return { client, id: this.connectionId(client) };
  }

  private connectionId(client: ClientId): string {
    return `${this.node.nodeId}.${this.node.incarnation}.c${client}.e${this.epoch}`;
  }

  private ownerKey(o: Owner): string {
    return `${o.conn.id}#${o.number}`;
  }

  step(now: number): void {
    const active = this.node.active();
    if (active && this.node.prng.chance(this.opts.closeChance ?? 0.004)) this.closeOne(now);
    for (const o of this.owners) {
      if (now < o.until) continue;
      if (o.phase === 'think' && active) this.ask(o, now);
      else if (o.phase === 'hold') this.release(o, now);
    }
  }

  finishing(): boolean {
    return this.owners.some((o) => o.phase !== 'think');
  }

  private send(o: Owner, kind: 'lock' | 'unlock', req: PlockRequest, now: number, wait: boolean): void {
    o.reqId = req.reqId;
    this.outstanding.set(`${o.conn.client}:${req.reqId}`, { owner: o, kind, issuedAt: now, wait });
    this.counts.requests!++;
    // The reply may come back inside this call (a refusal, a lock granted at once).
    this.plock.request(o.conn.client, req, now);
  }

  private ask(o: Owner, now: number): void {
    const plan = this.workload.plan(`${this.node.nodeId}.${this.node.incarnation}/${o.index}`);
    o.plan = plan;
    o.phase = 'ask';
    o.askedAt = now;
    this.send(
      o,
      'lock',
      {
        kind: 'lock',
        reqId: this.nextReq++,
        ...plan.range,
        owner: o.number,
        exclusive: plan.exclusive,
        wait: plan.wait,
      },
      now,
      plan.wait,
    );
  }

  private release(o: Owner, now: number): void {
    // Logged as released when the unlock leaves the client: the service releases no earlier.
    this.ledger.log.released(o.logId, now);
    o.logId = undefined;
    o.phase = 'unlock';
    this.send(
      o,
      'unlock',
      { kind: 'unlock', reqId: this.nextReq++, ...o.plan!.range, owner: o.number },
      now,
      false,
    );
  }

  /** A connection closes: the service releases its locks and drops its requests everywhere. */
  private closeOne(now: number): void {
    const conn = this.owners[this.node.prng.int(this.owners.length)]!.conn;
    this.counts.closes!++;
    this.ledger.log.connectionLost(conn.id, now);
    for (const k of [...this.outstanding.keys()])
      if (k.startsWith(`${conn.client}:`)) this.outstanding.delete(k);
    this.plock.clientGone(conn.client, now);
    const fresh = this.openConnection();
    for (const o of this.owners)
      if (o.conn === conn) {
        o.conn = fresh;
        o.phase = 'think';
        o.logId = undefined;
        o.until = now;
      }
  }

  plockReply(reply: PlockReply): void {
    const key = `${reply.client}:${reply.reqId}`;
    const f = this.outstanding.get(key);
    if (!f) {
      const before = this.answered.get(key);
      this.ledger.fail(
        'plock-reply',
        this.node.nodeId,
        `reply ${reply.kind}${reply.error ? ` ${reply.error.code}` : ''} to ${before ? `request ${reply.reqId} of client ${reply.client} answered before (${before})` : `unknown request ${reply.reqId} of client ${reply.client}`}`,
      );
      return;
    }
    this.outstanding.delete(key);
    this.answered.set(key, `${reply.error?.code ?? 'ok'} at ${this.ledger.now().toFixed(1)} ms`);
    const now = this.ledger.now();
    const o = f.owner;
    const code = reply.error?.code;
    if (f.kind === 'lock') {
      if (code === undefined) {
        o.logId = this.ledger.log.granted(
          this.ownerKey(o),
          this.node.nodeId,
          o.conn.id,
          o.plan!.range,
          o.plan!.exclusive,
          this.opts.plantHeldFromAsk ? f.issuedAt : now,
        );
        this.counts.grants!++;
        if (f.wait) {
          this.counts.waitGrants!++;
          this.counts.maxWaitMs = Math.max(this.counts.maxWaitMs!, now - f.issuedAt);
        }
        o.phase = 'hold';
        o.until = now + o.plan!.holdMs;
        return;
      }
      if (code === 'WOULD_BLOCK' && !f.wait) this.counts.wouldBlock!++;
      else if (code === 'TRY_AGAIN') this.counts.tryAgain!++;
      else {
        this.ledger.fail(
          'plock-reply',
          this.node.nodeId,
          `lock ${f.wait ? 'wait' : 'try'} of owner ${o.number} answered ${code}: ${reply.error?.message}`,
        );
        return;
      }
      o.phase = 'think';
      o.until = now + o.plan!.thinkMs;
      return;
    }
    if (code === 'TRY_AGAIN') {
      // Not released: ask again at the next step.
      this.counts.tryAgain!++;
      o.phase = 'hold';
      o.until = now;
      return;
    }
    if (code !== undefined) {
      this.ledger.fail('plock-reply', this.node.nodeId, `unlock of owner ${o.number} answered ${code}`);
      return;
    }
    this.counts.unlocks!++;
    o.phase = 'think';
    o.until = now + o.plan!.thinkMs;
  }

  /**
   * The node's lock state was discarded for the agreed one (it came back from another
   * partition): what its clients held is gone from the cluster's tables as of now, so their
   * logged locks end here. Later grants are logged under a new epoch of the connections.
   */
  checkDiscard(now: number): void {
    const discards = this.plock.stats.discards;
    if (discards === this.seenDiscards) return;
    this.seenDiscards = discards;
    const conns = new Set(this.owners.map((o) => o.conn));
    this.epoch++;
    for (const c of conns) {
      this.ledger.log.connectionLost(c.id, now);
      c.id = this.connectionId(c.client);
    }
    for (const o of this.owners)
      if (o.logId !== undefined) {
        o.logId = undefined;
        this.counts.droppedByDiscard!++;
      }
  }

  /** The process stops (crash or leave): every lock of its connections ends now. */
  stopped(now: number): void {
    for (const c of new Set(this.owners.map((o) => o.conn))) this.ledger.log.connectionLost(c.id, now);
  }

  /** Requests not answered yet. */
  unanswered(): { kind: string; wait: boolean; issuedAt: number; owner: number }[] {
    return [...this.outstanding.values()].map((f) => ({
      kind: f.kind,
      wait: f.wait,
      issuedAt: f.issuedAt,
      owner: f.owner.number,
    }));
  }

  ckptReply(reply: CkptReply): void {
    this.ledger.fail('plock-reply', this.node.nodeId, `checkpoint reply ${reply.kind} to a plock client`);
  }

  counters(): Readonly<Record<string, number>> {
    return this.counts;
  }

  describe(): string {
    const phases = this.owners.map((o) => o.phase[0]).join('');
    return `plock clients: owners ${phases}, ${this.outstanding.size} requests in flight; plock ${this.plock.ready ? 'ready' : 'not ready'}`;
  }
}
