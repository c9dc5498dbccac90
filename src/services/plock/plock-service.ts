/**
 * PlockService: distributed POSIX byte-range locks (gfs_controld's plocks) as a sans-IO
 * replicated state machine on pg group "plock". The protocol is described in docs/plock.md;
 * in short:
 *
 * - A resource (space, inode) is either handled through the ring (owner 0: every member
 *   applies every OP in ring order and holds the same lock table) or owned by one node, which
 *   grants its own processes' locks locally. With `ownership` on, a node claims (OWN) an idle
 *   resource before using it; another node's OWN makes the owner multicast its table
 *   (HANDOVER), after which the resource is handled through the ring again.
 * - A closed client (CLOSE) loses its locks and waiters on every member; so does every node
 *   absent from a new ring (or restarted), released at the sync activation, never at a
 *   transitional configuration (members of one ring may come from different old rings);
 *   waiters are then granted in FIFO (ring) order. From a transitional configuration until
 *   the state is agreed again no request is served and no grant is answered.
 * - Sync: on every regular configuration the service takes part in the sync round (HELLO
 *   with its state identity). At activation the largest group of initialized members with one
 *   identity (ties: the lowest node's) keeps its state; if any member does not, that group's
 *   lowest node (the keeper) writes
 *   the state as it was at activation into the `gfsplock.<space>` checkpoints (one section
 *   `r<inode>.<owner>` per resource) through the in-daemon CkptService, then multicasts
 *   STORED. The others hold every plock message from activation on, load the checkpoints at
 *   STORED, and replay what they held.
 * - Time enters only through `now` arguments; messages that cannot be queued now wait in an
 *   outbox flushed by `pump()` (call it at each token visit).
 */

import type { Configuration, NodeId, RingId } from '../../core/io.js';
import { Guarantee } from '../../core/io.js';
import type { SyncParticipant, SyncProgress, SyncRound } from '../../core/sync-participant.js';
import type { ProcessGroups } from '../../pg/process-groups.js';
import { EV } from '../../recorder/events/index.js';
import type { Recorder } from '../../recorder/recorder.js';
import type { SyncStatus } from '../../sync/sync-engine.js';
import { sameRing } from '../../sync/wire.js';
import { DecodeError } from '../../wire/decode-error.js';
import type { CkptService } from '../ckpt/ckpt-service.js';
import { SECTION_MESSAGE_OVERHEAD } from '../ckpt/ckpt-service.js';
import {
  type CkptReply,
  type CkptRequest,
  type CreationAttributes,
  CreationFlags,
  OpenFlags,
  TIME_END,
} from '../ckpt/types.js';
import { LockTable } from './lock-table.js';
import {
  type ClientId,
  type LockRecord,
  MAX_SPACE_BYTES,
  PLOCK_EOF,
  PLOCK_ERROR_CODES,
  type PlockHolder,
  type PlockReply,
  type PlockRequest,
  PlockServiceError,
  type WaiterRecord,
} from './types.js';
import {
  CHECKPOINT_PREFIX,
  checkpointName,
  decodeMessage,
  decodeRecords,
  encodeMessage,
  encodeRecords,
  MsgKind,
  type OpMessage,
  type PlockMessage,
  parseSectionName,
  type StateIdentity,
  sectionName,
} from './wire.js';

export const PLOCK_GROUP = 'plock';
export const PLOCK_SERVICE_NAME = 'plock';
/** The CkptService client id the plock service's checkpoint requests use (route its replies back). */
export const PLOCK_CKPT_CLIENT = 0x7ffffff0;
/** Locks plus waiters one resource may hold (bounds a HANDOVER message and a checkpoint section). */
export const MAX_RECORDS_PER_RESOURCE = 8192;
/** Messages waiting for the send queue beyond which new requests answer TRY_AGAIN. */
export const MAX_OUTBOX = 4096;
/** Request id of the unlocks this node sends on its own after a merge (never answered to a client). */
export const RELEASE_AGAIN_REQ = 0xffffffff;
/** Delay before a failed checkpoint store is tried again (ms). */
export const STORE_RETRY_MS = 100;
const SECTION_ID_BYTES = 32;
const RECORD_BYTES = 33;

export interface PlockServiceOptions {
  readonly pg: ProcessGroups;
  readonly recorder: Recorder;
  readonly nodeId: NodeId;
  /** The sync engine (or anything that says whether a round runs). */
  readonly sync: SyncStatus;
  /** The in-daemon checkpoint service that keeps the gfsplock checkpoints. */
  readonly ckpt: CkptService;
  readonly onReply: (reply: PlockReply) => void;
  /** Claim idle resources and grant their locks locally (gfs_controld plock_ownership). Default false. */
  readonly ownership?: boolean;
  /** The ckpt client id for this service's requests (default PLOCK_CKPT_CLIENT). */
  readonly ckptClient?: ClientId;
  readonly group?: string;
  /**
   * This run's boot id, sent in HELLO: a member whose id changed restarted, so its clients'
   * locks are released. Give every start of a node a different one (default 0).
   */
  readonly incarnation?: number;
  /**
   * A lock this node had granted to its client is not part of the agreed state after a merge
   * (the other side of a split won, or this node's state was replaced): the client must be
   * told (error code LOST). Default: recorded only.
   */
  readonly onLost?: (lost: PlockLost) => void;
}

/** A granted lock that a merge took away. */
export interface PlockLost {
  readonly client: ClientId;
  readonly holder: PlockHolder;
  readonly error: PlockServiceError;
}

/** A client's lock decision taken (or state held) while the state was not agreed: settled later. */
interface Unsettled {
  readonly client: ClientId;
  readonly reqId: number;
  readonly k: string;
  readonly lock: LockRecord;
}

export interface PlockServiceStats {
  messagesSent: number;
  messagesApplied: number;
  localOps: number;
  badMessages: number;
  held: number;
  handoversSent: number;
  claims: number;
  stores: number;
  storeFailures: number;
  loads: number;
  discards: number;
  resubmitted: number;
  lost: number;
  /** Ranges (or closed clients) released again after a merge brought back what they had let go. */
  releasedAgain: number;
}

/** One resource's replicated state. */
interface Resource {
  readonly space: string;
  readonly inode: number;
  /** 0: handled through the ring; else the node that grants its locks locally. */
  owner: NodeId;
  table: LockTable;
}

type LocalRequest = Extract<PlockRequest, { kind: 'lock' | 'unlock' | 'test' | 'cancel' }>;

interface PendingOp {
  /** Arrival order at this node: re-routed requests go back in their place. */
  readonly seq: number;
  readonly client: ClientId;
  readonly req: LocalRequest;
}

/** This node's private view of a resource: requests waiting for its ownership to settle. */
interface LocalResource {
  pending: PendingOp[];
  /** Our OWN is in flight. */
  ownSent: boolean;
  /** We asked this owner to hand over; do not ask again while it owns. */
  waitOwner: NodeId;
  /** We own it and our HANDOVER is in flight: nothing is granted locally. */
  handingOver: boolean;
}

interface Held {
  readonly sender: NodeId;
  readonly bytes: Uint8Array;
  readonly m: PlockMessage;
}

interface LocalRound {
  readonly info: SyncRound;
  helloSent: boolean;
  readonly hellos: Map<NodeId, { initialized: boolean; state: StateIdentity; incarnation: number }>;
}

interface StoreJob {
  readonly gen: number;
  readonly ringId: RingId;
  readonly snapshot: Map<string, { inode: number; owner: NodeId; data: Uint8Array }[]>;
  outstanding: number;
  failed: boolean;
  requests: number;
}

interface CkptCall {
  readonly gen: number;
  readonly space: string;
  readonly step: 'open' | 'section' | 'close';
}

const REQUEST_KINDS: readonly PlockRequest['kind'][] = ['lock', 'unlock', 'test', 'cancel', 'list'];
const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

const key = (space: string, inode: number): string => `${inode}\u0000${space}`;
const waitKey = (client: ClientId, reqId: number): string => `${client}:${reqId}`;
const isSafeOffset = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const isU32 = (v: unknown): v is number =>
  Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 0xffffffff;

export class PlockService implements SyncParticipant {
  readonly serviceName = PLOCK_SERVICE_NAME;
  readonly nodeId: NodeId;
  readonly group: string;
  readonly ownership: boolean;
  readonly ckptClient: ClientId;
  private readonly pg: ProcessGroups;
  private readonly recorder: Recorder;
  private readonly sync: SyncStatus;
  private readonly ckpt: CkptService;
  private readonly onReply: (reply: PlockReply) => void;
  private resources = new Map<string, Resource>();
  private readonly local = new Map<string, LocalResource>();
  /** Lock requests of local clients not answered yet → their resource key. */
  private readonly waits = new Map<string, string>();
  private readonly goneClients = new Set<ClientId>();
  private readonly outbox: Uint8Array[] = [];
  /** Requests that arrived before this node had lock state. */
  private unready: { client: ClientId; req: PlockRequest }[] = [];
  /**
   * This node's ops whose outcome now lies in a lock state this node replaces by another
   * (held for a checkpoint that never came; waiting in a state discarded for the agreed one):
   * settled against the state loaded next (settleOrphans), so that every request is answered.
   */
  private orphans: OpMessage[] = [];
  /** Messages delivered during a sync round (applied at activation, or held for the checkpoint). */
  private deferred: Held[] = [];
  /** Messages held from activation until STORED (this node waits for the checkpoint). */
  private held: Held[] = [];
  private waitStored: { ringId: RingId; keeper: NodeId } | undefined;
  private initialized = false;
  private identity: StateIdentity = { ring: { rep: 0, seq: 0 }, count: 0, digest: 0 };
  private round: LocalRound | undefined;
  private store: StoreJob | undefined;
  private storeRetryAt: number | undefined;
  private storeGen = 0;
  private readonly ckptCalls = new Map<number, CkptCall>();
  private nextCkptReq = 1;
  private nextSeq = 1;
  private now = 0;
  private readonly maxSectionSize: number;
  private readonly counters: PlockServiceStats = {
    messagesSent: 0,
    messagesApplied: 0,
    localOps: 0,
    badMessages: 0,
    held: 0,
    handoversSent: 0,
    claims: 0,
    stores: 0,
    storeFailures: 0,
    loads: 0,
    discards: 0,
    resubmitted: 0,
    lost: 0,
    releasedAgain: 0,
  };
  readonly incarnation: number;
  private readonly onLost: ((lost: PlockLost) => void) | undefined;
  /**
   * From a transitional configuration until the state is agreed again (activation, or the
   * checkpoint): no request is served and no grant is answered to a client.
   */
  private settling = false;
  /** Grants decided and waits lived while settling: answered from the agreed table once settled. */
  private unsettled: Unsettled[] = [];
  /** This node's clients' locks when it threw its state away: checked against the agreed one. */
  /** Tables of resources this node owned when it threw its state away (see load). */
  private ownTables = new Map<string, LockTable>();
  private atRisk: { k: string; space: string; inode: number; lock: LockRecord }[] | undefined;
  /** Members' boot ids at the last activation. */
  private incarnations = new Map<NodeId, number>();

  constructor(opts: PlockServiceOptions) {
    this.pg = opts.pg;
    this.recorder = opts.recorder;
    this.nodeId = opts.nodeId;
    this.sync = opts.sync;
    this.ckpt = opts.ckpt;
    this.onReply = opts.onReply;
    this.ownership = opts.ownership ?? false;
    this.ckptClient = opts.ckptClient ?? PLOCK_CKPT_CLIENT;
    this.group = opts.group ?? PLOCK_GROUP;
    this.incarnation = (opts.incarnation ?? 0) >>> 0;
    this.onLost = opts.onLost;
    this.maxSectionSize = Math.min(
      MAX_RECORDS_PER_RESOURCE * (RECORD_BYTES + 4) + 8,
      this.pg.maxMessageSize - SECTION_MESSAGE_OVERHEAD - SECTION_ID_BYTES,
    );
    this.pg.join(this.group, {
      deliver: (_g, sender, message) => this.deliver(sender, message),
      configurationChange: (conf) => this.configurationChange(conf),
    });
  }

  get stats(): Readonly<PlockServiceStats> {
    return { ...this.counters };
  }

  /** True once this node holds the agreed lock state (after its first sync round, or the checkpoint). */
  get ready(): boolean {
    return this.initialized && this.waitStored === undefined && !this.settling;
  }

  /** Messages waiting for room in the send queue. */
  get outboxLength(): number {
    return this.outbox.length;
  }

  /**
   * The replicated state, one line per resource, for comparing members: owner and (for
   * resources handled through the ring) locks and waiters; resources owned by a node show
   * their table only on that node, so `ownedTables: false` leaves them out.
   */
  dump(ownedTables = false): string {
    const lines: string[] = [];
    const sorted = [...this.resources.values()].sort((a, b) =>
      a.space < b.space ? -1 : a.space > b.space ? 1 : a.inode - b.inode,
    );
    for (const r of sorted) {
      let line = `${r.space}/${r.inode} owner=${r.owner}`;
      if (r.owner === 0 || ownedTables) {
        const locks = r.table.locks.map(
          (l) => `${l.nodeId}.${l.client}.${l.owner}:${l.start}-${l.end}${l.exclusive ? 'x' : 's'}`,
        );
        const waiters = r.table.waiters.map(
          (w) =>
            `${w.nodeId}.${w.client}.${w.owner}#${w.reqId}:${w.start}-${w.end}${w.exclusive ? 'x' : 's'}`,
        );
        line += ` locks=[${locks.join(' ')}] waiters=[${waiters.join(' ')}]`;
      }
      lines.push(line);
    }
    return lines.join('\n');
  }

  /**
   * Every resource this node knows, with its table (for a resource another node owns the
   * table here is empty: the owner has it). For checkers and tools; read-only use.
   */
  inspect(): {
    space: string;
    inode: number;
    owner: NodeId;
    locks: readonly LockRecord[];
    waiters: readonly WaiterRecord[];
  }[] {
    return [...this.resources.values()].map((r) => ({
      space: r.space,
      inode: r.inode,
      owner: r.owner,
      locks: [...r.table.locks],
      waiters: [...r.table.waiters],
    }));
  }

  /** The owner of a resource as this node knows it (0: through the ring; undefined: never used). */
  ownerOf(space: string, inode: number): NodeId | undefined {
    return this.resources.get(key(space, inode))?.owner;
  }

  // ---- client requests ---------------------------------------------------------------------

  request(client: ClientId, req: PlockRequest, now: number): void {
    this.now = now;
    this.recorder.rec(EV.PLOCK_REQUEST, client, REQUEST_KINDS.indexOf(req.kind), req.reqId, inodeOf(req));
    const bad = checkRequest(req);
    if (bad) {
      this.fail(client, req.reqId, req.kind, bad);
      return;
    }
    if (req.kind !== 'list' && req.kind !== 'cancel' && this.outbox.length >= MAX_OUTBOX) {
      this.fail(client, req.reqId, req.kind, new PlockServiceError('TRY_AGAIN', 'send queue full'));
      return;
    }
    if (req.kind === 'lock') {
      const wk = waitKey(client, req.reqId);
      if (this.waits.has(wk)) {
        this.fail(client, req.reqId, req.kind, new PlockServiceError('DUPLICATE_REQUEST'));
        return;
      }
      this.waits.set(wk, key(req.space, req.inode));
    }
    if (!this.ready) {
      this.unready.push({ client, req });
      return;
    }
    this.handleRequest(client, req);
    this.pump();
  }

  /** A client disconnected: its pending requests are dropped, its locks and waiters released everywhere. */
  clientGone(client: ClientId, now: number): void {
    this.now = now;
    this.goneClients.add(client);
    for (const wk of [...this.waits.keys()]) if (wk.startsWith(`${client}:`)) this.waits.delete(wk);
    this.unready = this.unready.filter((u) => u.client !== client);
    for (const l of this.local.values()) l.pending = l.pending.filter((p) => p.client !== client);
    if (!this.ready) {
      // Its messages (if any) are in the state being loaded: release them through the ring once ready.
      this.unready.push({ client, req: { kind: 'cancel', reqId: 0, target: -1 } });
      return;
    }
    this.releaseClientLocally(client);
    this.send({ kind: 'close', origin: this.nodeId, client });
    this.pump();
  }

  /** Time passes: retries a failed checkpoint store, flushes the outbox. */
  tick(now: number): void {
    this.now = now;
    if (this.storeRetryAt !== undefined && now >= this.storeRetryAt && !this.sync.inProgress) {
      this.storeRetryAt = undefined;
      const job = this.store;
      if (job?.failed) {
        // Handles a failed attempt left open are closed before trying again.
        this.ckpt.clientGone(this.ckptClient, now);
        this.startStore(job.ringId, job.snapshot);
      }
    }
    this.pump();
  }

  /** The earliest time `tick` has something to do. */
  nextDeadline(): number | undefined {
    return this.storeRetryAt;
  }

  /** Sends what the send queue takes now (call at each token visit). */
  pump(): void {
    while (this.outbox.length > 0) {
      const bytes = this.outbox[0]!;
      const r = this.pg.send(this.group, bytes, Guarantee.Agreed);
      if (r.kind === 'too-large') throw new Error(`plock message of ${r.size} bytes is too large`);
      if (r.kind !== 'ok') return;
      this.outbox.shift();
      this.counters.messagesSent++;
      this.recorder.rec(EV.PLOCK_TX, bytes[0] ?? 0, bytes.length, 0);
    }
  }

  private handleRequest(client: ClientId, req: PlockRequest): void {
    if (req.kind === 'list') {
      this.reply({ client, reqId: req.reqId, kind: 'list', holders: this.list(req.space, req.inode) });
      return;
    }
    if (req.kind === 'cancel' && req.target === -1) {
      // A client that closed before this node was ready (see clientGone).
      this.releaseClientLocally(client);
      this.send({ kind: 'close', origin: this.nodeId, client });
      return;
    }
    let k: string;
    if (req.kind === 'cancel') {
      const where = this.waits.get(waitKey(client, req.target));
      if (where === undefined) {
        this.reply({ client, reqId: req.reqId, kind: 'cancel', cancelled: false });
        return;
      }
      k = where;
    } else k = key(req.space, req.inode);
    const l = this.localOf(k);
    if (req.kind === 'cancel') {
      const i = l.pending.findIndex((p) => p.client === client && p.req.reqId === req.target);
      if (i >= 0) {
        const p = l.pending.splice(i, 1)[0]!;
        this.fail(client, p.req.reqId, 'lock', new PlockServiceError('CANCELLED'));
        this.reply({ client, reqId: req.reqId, kind: 'cancel', cancelled: true });
        return;
      }
    }
    l.pending.push({ seq: this.nextSeq++, client, req });
    this.kick(k);
  }

  private list(space: string, inode: number | undefined): PlockHolder[] {
    const out: PlockHolder[] = [];
    for (const r of this.resources.values()) {
      if (r.space !== space || (inode !== undefined && r.inode !== inode)) continue;
      if (r.owner !== 0 && r.owner !== this.nodeId) continue;
      for (const l of r.table.locks) out.push(holderOf(r, l));
    }
    return out.sort(
      (a, b) => a.inode - b.inode || a.start - b.start || a.nodeId - b.nodeId || a.owner - b.owner,
    );
  }

  private localOf(k: string): LocalResource {
    let l = this.local.get(k);
    if (!l) {
      l = { pending: [], ownSent: false, waitOwner: 0, handingOver: false };
      this.local.set(k, l);
    }
    return l;
  }

  /** Moves a resource's pending requests on, as far as its ownership allows. */
  private kick(k: string): void {
    const l = this.local.get(k);
    if (!l || l.pending.length === 0 || l.ownSent || !this.ready) return;
    const r = this.resources.get(k);
    const owner = r?.owner ?? 0;
    if (owner === this.nodeId) {
      if (l.handingOver) return;
      const todo = l.pending;
      l.pending = [];
      for (const p of todo) this.applyLocal(r!, p);
      return;
    }
    if (owner === 0) {
      if (this.ownership && (!r || r.table.empty) && l.pending.some((p) => p.req.kind === 'lock')) {
        this.claim(k, l);
        return;
      }
      const todo = l.pending;
      l.pending = [];
      for (const p of todo) {
        if (p.req.kind === 'test') this.answerTest(p.client, p.req, r);
        else this.send(opMessage(this.nodeId, p.client, p.req, this.targetOf(p, k)));
      }
      return;
    }
    if (l.waitOwner === owner) return;
    this.claim(k, l);
  }

  private claim(k: string, l: LocalResource): void {
    const p = l.pending[0]!;
    const { space, inode } = this.targetOf(p, k);
    l.ownSent = true;
    this.counters.claims++;
    this.send({ kind: 'own', space, inode });
  }

  private targetOf(p: PendingOp, k: string): { space: string; inode: number } {
    if (p.req.kind !== 'cancel') return { space: p.req.space, inode: p.req.inode };
    const r = this.resources.get(k);
    if (r) return { space: r.space, inode: r.inode };
    const sep = k.indexOf('\u0000');
    return { space: k.slice(sep + 1), inode: Number(k.slice(0, sep)) };
  }

  private answerTest(
    client: ClientId,
    req: Extract<PlockRequest, { kind: 'test' }>,
    r: Resource | undefined,
  ): void {
    const held = r?.table.test(
      { nodeId: this.nodeId, client, owner: req.owner },
      req.start,
      req.end,
      req.exclusive,
    );
    this.reply(
      held && r
        ? { client, reqId: req.reqId, kind: 'test', holder: holderOf(r, held) }
        : { client, reqId: req.reqId, kind: 'test' },
    );
  }

  /** A request on a resource this node owns: no ring. */
  private applyLocal(r: Resource, p: PendingOp): void {
    const req = p.req;
    this.counters.localOps++;
    this.recorder.rec(EV.PLOCK_LOCAL, REQUEST_KINDS.indexOf(req.kind), p.client, req.reqId, r.inode >>> 0);
    const me = this.nodeId;
    switch (req.kind) {
      case 'test':
        this.answerTest(p.client, req, r);
        return;
      case 'lock':
        this.lockIn(r, me, p.client, req.reqId, req, req.exclusive, req.wait);
        return;
      case 'unlock':
        r.table.unlock({ nodeId: me, client: p.client, owner: req.owner }, req.start, req.end);
        this.grantWaiters(r);
        this.reply({ client: p.client, reqId: req.reqId, kind: 'unlock' });
        return;
      case 'cancel':
        this.cancelIn(r, me, p.client, req.reqId, req.target);
        return;
    }
  }

  private lockIn(
    r: Resource,
    origin: NodeId,
    client: ClientId,
    reqId: number,
    range: { start: number; end: number; owner: number },
    exclusive: boolean,
    wait: boolean,
  ): void {
    const lock: LockRecord = {
      nodeId: origin,
      client,
      owner: range.owner,
      start: range.start,
      end: range.end,
      exclusive,
    };
    const full = r.table.locks.length + r.table.waiters.length >= MAX_RECORDS_PER_RESOURCE;
    if (!full && r.table.tryLock(lock)) {
      if (origin === this.nodeId) this.lockAnswered(client, reqId, undefined, r, lock);
      return;
    }
    if (full) {
      if (origin === this.nodeId) this.lockAnswered(client, reqId, new PlockServiceError('NO_SPACE'));
      return;
    }
    if (wait) r.table.enqueue({ ...lock, reqId });
    else if (origin === this.nodeId) this.lockAnswered(client, reqId, new PlockServiceError('WOULD_BLOCK'));
  }

  private cancelIn(r: Resource, origin: NodeId, client: ClientId, reqId: number, target: number): void {
    const w = r.table.cancel(origin, client, target);
    if (origin !== this.nodeId || reqId === RELEASE_AGAIN_REQ) return;
    if (w) this.lockAnswered(client, target, new PlockServiceError('CANCELLED'));
    this.reply({ client, reqId, kind: 'cancel', cancelled: w !== undefined });
  }

  private grantWaiters(r: Resource): number {
    const me = this.nodeId;
    // What this node's clients held before, only when a grant may go to nobody (rare).
    const mineBefore = r.table.waiters.some((w) => this.nobodyWaits(w))
      ? r.table.locks.filter((l) => l.nodeId === me).map((l) => ({ ...l }))
      : [];
    const granted = r.table.grantWaiters();
    for (const w of granted) {
      this.recorder.rec(EV.PLOCK_GRANT, w.nodeId, w.client, w.reqId, r.inode >>> 0);
      if (w.nodeId !== me) continue;
      if (this.nobodyWaits(w)) {
        const held = mineBefore.filter((l) => l.client === w.client && l.owner === w.owner);
        this.releaseUnwanted(r, w, held);
        continue;
      }
      this.lockAnswered(w.client, w.reqId, undefined, r, w);
    }
    return granted.length;
  }

  /**
   * A waiter of this node's whose request was answered already (granted while apart, then lost
   * in the merge, say), yet the agreed state still queues it: its grant is let go again.
   */
  private nobodyWaits(w: LockRecord & { reqId: number }): boolean {
    return (
      w.nodeId === this.nodeId &&
      !this.settling &&
      !this.goneClients.has(w.client) &&
      !this.waits.has(waitKey(w.client, w.reqId))
    );
  }

  /** Unlocks, through the ring, the parts of a lock of this node's that its client does not hold. */
  private releaseUnwanted(r: Resource, lock: LockRecord, heldBefore: readonly LockRecord[]): void {
    for (const [start, end] of rangesNotCovered(lock, heldBefore)) {
      this.counters.releasedAgain++;
      this.later(lock.client, {
        kind: 'unlock',
        reqId: RELEASE_AGAIN_REQ,
        space: r.space,
        inode: r.inode,
        start,
        end,
        owner: lock.owner,
      });
    }
  }

  /**
   * Cancels, through the ring, this node's waiters in the agreed state whose requests were
   * answered while apart (granted and lost, or failed): nobody waits for them any more.
   */
  private cancelAnsweredWaiters(): void {
    for (const [k, r] of this.resources) {
      for (const w of r.table.waiters) {
        if (!this.nobodyWaits(w)) continue;
        this.counters.releasedAgain++;
        this.localOf(k).pending.push({
          seq: this.nextSeq++,
          client: w.client,
          req: { kind: 'cancel', reqId: RELEASE_AGAIN_REQ, target: w.reqId },
        });
        this.kick(k);
      }
    }
  }

  private lockAnswered(
    client: ClientId,
    reqId: number,
    error?: PlockServiceError,
    r?: Resource,
    lock?: LockRecord,
  ): void {
    if (this.settling && !error && r && lock) {
      // A grant from a table that is not agreed yet (another side may have granted a
      // conflicting lock): decided again from the agreed table once settled.
      this.unsettled.push({ client, reqId, k: key(r.space, r.inode), lock });
      return;
    }
    this.waits.delete(waitKey(client, reqId));
    if (error) this.fail(client, reqId, 'lock', error);
    else this.reply({ client, reqId, kind: 'lock' });
  }

  private releaseClientLocally(client: ClientId): void {
    let resources = 0;
    let granted = 0;
    for (const r of this.resources.values()) {
      if (r.owner !== this.nodeId || this.local.get(key(r.space, r.inode))?.handingOver) continue;
      if (r.table.releaseWhere((o) => o.nodeId === this.nodeId && o.client === client)) {
        resources++;
        granted += this.grantWaiters(r);
      }
    }
    if (resources > 0) this.recorder.rec(EV.PLOCK_RELEASE_CLIENT, this.nodeId, client, resources, granted);
  }

  private fail(client: ClientId, reqId: number, kind: PlockRequest['kind'], error: PlockServiceError): void {
    this.reply({ client, reqId, kind, error });
  }

  private reply(r: PlockReply): void {
    const code = r.error ? 1 + PLOCK_ERROR_CODES.indexOf(r.error.code) : 0;
    this.recorder.rec(EV.PLOCK_RESPONSE, r.client, REQUEST_KINDS.indexOf(r.kind), r.reqId, code);
    if (this.goneClients.has(r.client) || r.reqId === RELEASE_AGAIN_REQ) return;
    this.onReply(r);
  }

  private send(m: PlockMessage): void {
    this.outbox.push(encodeMessage(m));
  }

  // ---- ordered messages --------------------------------------------------------------------

  private deliver(sender: NodeId, bytes: Uint8Array): void {
    let m: PlockMessage;
    try {
      m = decodeMessage(bytes);
      if ((m.kind === 'op' || m.kind === 'close') && m.origin !== sender) {
        throw new DecodeError('bad-value', 'plock message origin', 1);
      }
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
      this.counters.badMessages++;
      this.recorder.rec(EV.PLOCK_BAD_MESSAGE, sender, bytes.length, e.offset);
      return;
    }
    if (m.kind === 'hello') {
      this.hello(sender, m);
      return;
    }
    if (m.kind === 'stored') {
      this.stored(sender, m.ringId);
      return;
    }
    if (this.sync.inProgress) {
      this.deferred.push({ sender, bytes, m });
      this.counters.held++;
      this.recorder.rec(EV.PLOCK_DEFERRED, sender, bytes[0] ?? 0);
      return;
    }
    if (this.waitStored) {
      this.held.push({ sender, bytes, m });
      this.counters.held++;
      this.recorder.rec(EV.PLOCK_DEFERRED, sender, bytes[0] ?? 0);
      return;
    }
    if (!this.initialized) return;
    this.apply(sender, m, bytes);
    this.pump();
  }

  /** Counts and hashes what changed the replicated state since the last activation. */
  private remember(bytes: Uint8Array): void {
    const id = this.identity;
    this.identity = { ring: id.ring, count: id.count + 1, digest: fnv1a(id.digest, bytes) };
  }

  private apply(
    sender: NodeId,
    m: Exclude<PlockMessage, { kind: 'hello' | 'stored' }>,
    bytes: Uint8Array,
  ): void {
    this.counters.messagesApplied++;
    this.remember(bytes);
    switch (m.kind) {
      case 'op':
        this.recorder.rec(EV.PLOCK_APPLY, sender, MsgKind.Op, m.reqId, m.inode >>> 0);
        this.applyOp(m);
        return;
      case 'close':
        this.recorder.rec(EV.PLOCK_APPLY, sender, MsgKind.Close, m.client, 0);
        this.applyClose(m.origin, m.client);
        return;
      case 'own':
        this.recorder.rec(EV.PLOCK_APPLY, sender, MsgKind.Own, 0, m.inode >>> 0);
        this.applyOwn(sender, m.space, m.inode);
        return;
      case 'handover': {
        this.recorder.rec(EV.PLOCK_APPLY, sender, MsgKind.Handover, m.records.locks.length, m.inode >>> 0);
        const k = key(m.space, m.inode);
        const r = this.resources.get(k);
        const l = this.local.get(k);
        if (sender === this.nodeId && l) l.handingOver = false;
        if (!r || r.owner !== sender) return;
        this.setOwner(r, 0);
        const t = new LockTable();
        t.locks = [...m.records.locks];
        t.waiters = [...m.records.waiters];
        r.table = t;
        this.afterOwnerChange(k, sender);
        return;
      }
    }
  }

  private resource(space: string, inode: number): Resource {
    const k = key(space, inode);
    let r = this.resources.get(k);
    if (!r) {
      r = { space, inode, owner: 0, table: new LockTable() };
      this.resources.set(k, r);
    }
    return r;
  }

  private applyOp(m: OpMessage): void {
    const k = key(m.space, m.inode);
    const existing = this.resources.get(k);
    if (existing && existing.owner !== 0) {
      // Ordered after an ownership claim: the origin routes the request again.
      if (m.origin === this.nodeId) this.reroute(k, m);
      return;
    }
    const r = this.resource(m.space, m.inode);
    switch (m.op) {
      case 'lock':
        this.lockIn(r, m.origin, m.client, m.reqId, m, m.exclusive, m.wait);
        return;
      case 'unlock':
        r.table.unlock({ nodeId: m.origin, client: m.client, owner: m.owner }, m.start, m.end);
        this.grantWaiters(r);
        if (m.origin === this.nodeId) this.reply({ client: m.client, reqId: m.reqId, kind: 'unlock' });
        return;
      case 'cancel':
        this.cancelIn(r, m.origin, m.client, m.reqId, m.target);
        return;
    }
  }

  private reroute(k: string, m: OpMessage): void {
    if (this.goneClients.has(m.client)) return;
    const req: LocalRequest =
      m.op === 'lock'
        ? {
            kind: 'lock',
            reqId: m.reqId,
            space: m.space,
            inode: m.inode,
            start: m.start,
            end: m.end,
            owner: m.owner,
            exclusive: m.exclusive,
            wait: m.wait,
          }
        : m.op === 'unlock'
          ? {
              kind: 'unlock',
              reqId: m.reqId,
              space: m.space,
              inode: m.inode,
              start: m.start,
              end: m.end,
              owner: m.owner,
            }
          : { kind: 'cancel', reqId: m.reqId, target: m.target };
    const l = this.localOf(k);
    // Before every request that arrived later (those have higher seqs than any re-routed one).
    const reroutedCount = l.pending.filter((p) => p.seq < 0).length;
    l.pending.splice(reroutedCount, 0, { seq: -1, client: m.client, req });
    this.kick(k);
  }

  private applyClose(origin: NodeId, client: ClientId): void {
    if (origin === this.nodeId) this.goneClients.delete(client);
    let resources = 0;
    let granted = 0;
    for (const r of this.resources.values()) {
      if (r.owner !== 0) continue;
      if (r.table.releaseWhere((o) => o.nodeId === origin && o.client === client)) {
        resources++;
        granted += this.grantWaiters(r);
      }
    }
    this.recorder.rec(EV.PLOCK_RELEASE_CLIENT, origin, client, resources, granted);
  }

  private applyOwn(sender: NodeId, space: string, inode: number): void {
    const k = key(space, inode);
    const r = this.resource(space, inode);
    if (r.owner === 0 && r.table.empty) {
      this.setOwner(r, sender);
    } else if (r.owner === this.nodeId && sender !== this.nodeId) {
      const l = this.localOf(k);
      if (!l.handingOver) {
        l.handingOver = true;
        this.counters.handoversSent++;
        this.send({
          kind: 'handover',
          space,
          inode,
          records: { locks: r.table.locks, waiters: r.table.waiters },
        });
      }
    }
    if (sender === this.nodeId) {
      const l = this.localOf(k);
      l.ownSent = false;
      if (r.owner !== 0 && r.owner !== this.nodeId) l.waitOwner = r.owner;
      this.kick(k);
    }
  }

  private setOwner(r: Resource, owner: NodeId): void {
    this.recorder.rec(EV.PLOCK_OWNER, this.recorder.intern(r.space), r.inode >>> 0, r.owner, owner);
    r.owner = owner;
  }

  private afterOwnerChange(k: string, oldOwner: NodeId): void {
    const l = this.local.get(k);
    if (!l) return;
    if (l.waitOwner === oldOwner) l.waitOwner = 0;
    this.kick(k);
  }

  private configurationChange(conf: Configuration): void {
    if (conf.kind !== 'transitional') return;
    // Whatever waited for a checkpoint of a round that is now over is void: a new round decides again.
    if (this.waitStored) {
      this.recorder.rec(EV.PLOCK_SYNC_ABORT, this.held.length, 0);
      // Ordered in a ring whose state this node never loaded: what they did is in the next one.
      for (const h of this.held) if (h.sender === this.nodeId && h.m.kind === 'op') this.orphans.push(h.m);
      this.held = [];
      this.waitStored = undefined;
      this.initialized = false;
    }
    if (!this.initialized) return;
    // Members of one new ring may come from different old rings (extended virtual synchrony),
    // so each may see different nodes leave here, and nodes that "left" may be back in the
    // regular configuration without having restarted. Nothing is released now: the nodes
    // absent from the new ring (or restarted) are released at activation, the same on every
    // member. Until then this node's table is not agreed: no grant is answered from it.
    this.settling = true;
    this.recorder.rec(EV.PLOCK_SETTLING, conf.ringId.seq >>> 0, conf.left.length);
  }

  /**
   * At activation, on the members whose state is the agreed one: releases every node that is
   * not in the new ring, did not take part initialized, or restarted (its boot id changed).
   */
  private releaseAbsent(round: LocalRound, previous: ReadonlyMap<NodeId, number>): void {
    const members = new Set(round.info.members);
    const gone = new Set<NodeId>();
    const consider = (n: NodeId): void => {
      if (n === this.nodeId || n === 0 || gone.has(n)) return;
      const h = round.hellos.get(n);
      const before = previous.get(n);
      const restarted = h !== undefined && before !== undefined && before !== h.incarnation;
      if (!members.has(n) || !h?.initialized || restarted) gone.add(n);
    };
    for (const r of this.resources.values()) {
      consider(r.owner);
      for (const l of r.table.locks) consider(l.nodeId);
      for (const w of r.table.waiters) consider(w.nodeId);
    }
    for (const node of [...gone].sort((a, b) => a - b)) {
      let resources = 0;
      let granted = 0;
      for (const [k, r] of this.resources) {
        if (r.owner === node) {
          // Only the owner's own processes used it: nothing else to keep.
          this.setOwner(r, 0);
          r.table = new LockTable();
          resources++;
          this.afterOwnerChange(k, node);
        } else if (r.owner === 0 && r.table.releaseWhere((o) => o.nodeId === node)) {
          resources++;
          granted += this.grantWaiters(r);
        }
      }
      this.recorder.rec(EV.PLOCK_RELEASE_NODE, node, resources, granted);
    }
    for (const [k, l] of this.local) if (gone.has(l.waitOwner)) this.afterOwnerChange(k, l.waitOwner);
  }

  /**
   * The state is agreed again: grants decided while settling (and waits that lived in a
   * discarded state) are answered from the agreed table; this node's clients' locks that the
   * agreed state does not hold are reported LOST.
   */
  private settleAgreed(): void {
    const unsettled = this.unsettled;
    this.unsettled = [];
    for (const u of unsettled) {
      if (!this.waits.has(waitKey(u.client, u.reqId))) continue;
      const r = this.resources.get(u.k);
      if (r && covers(r.table, this.nodeId, u.lock)) {
        this.lockAnswered(u.client, u.reqId);
        continue;
      }
      const me = this.nodeId;
      if (r?.table.waiters.some((w) => w.nodeId === me && w.client === u.client && w.reqId === u.reqId)) {
        continue; // still waiting in the agreed table: answered when granted there
      }
      this.lockAnswered(
        u.client,
        u.reqId,
        new PlockServiceError('TRY_AGAIN', 'lock state changed in a membership change'),
      );
    }
    const atRisk = this.atRisk;
    this.atRisk = undefined;
    for (const a of atRisk ?? []) {
      if (this.goneClients.has(a.lock.client)) continue;
      const r = this.resources.get(a.k);
      if (r && covers(r.table, this.nodeId, a.lock)) continue;
      this.counters.lost++;
      this.recorder.rec(
        EV.PLOCK_LOST,
        a.lock.client,
        a.inode >>> 0,
        a.lock.start >>> 0,
        a.lock.exclusive ? 1 : 0,
      );
      const error = new PlockServiceError('LOST', 'the lock was taken away by a partition merge');
      if (this.onLost) this.onLost({ client: a.lock.client, holder: holderOf(a, a.lock), error });
    }
    if (atRisk !== undefined) this.releaseAgain(atRisk);
    this.cancelAnsweredWaiters();
  }

  /**
   * The agreed state may still hold locks this node's clients released while apart (the other
   * side never saw the unlock or the close): this node is the authority on its own clients, so
   * it releases again, through the ring, every range of theirs that they did not hold when it
   * dropped its state.
   */
  private releaseAgain(heldAtDrop: NonNullable<typeof this.atRisk>): void {
    const closeAgain = new Set<ClientId>();
    for (const [k, r] of this.resources) {
      for (const l of r.table.locks) {
        if (l.nodeId !== this.nodeId) continue;
        if (this.goneClients.has(l.client)) {
          closeAgain.add(l.client);
          continue;
        }
        const held = heldAtDrop
          .filter((a) => a.k === k && a.lock.client === l.client && a.lock.owner === l.owner)
          .map((a) => a.lock);
        this.releaseUnwanted(r, l, held);
      }
    }
    for (const client of closeAgain) {
      this.counters.releasedAgain++;
      this.later(client, { kind: 'cancel', reqId: 0, target: -1 });
    }
  }

  /** Runs a request of this node's own once it is ready (now, if it is). */
  private later(client: ClientId, req: PlockRequest): void {
    if (this.ready) this.handleRequest(client, req);
    else this.unready.push({ client, req });
  }

  // ---- SyncParticipant ---------------------------------------------------------------------

  syncInit(round: SyncRound): void {
    this.round = { info: round, helloSent: false, hellos: new Map() };
    // A store for an earlier ring is void: this round decides again.
    this.store = undefined;
    this.storeRetryAt = undefined;
    this.storeGen++;
  }

  syncProcess(): SyncProgress {
    const r = this.round;
    if (!r) return 'done';
    if (!r.helloSent) {
      const bytes = encodeMessage({
        kind: 'hello',
        ringId: r.info.ringId,
        initialized: this.initialized,
        state: this.identity,
        incarnation: this.incarnation,
      });
      const sent = this.pg.send(this.group, bytes, Guarantee.Agreed);
      if (sent.kind !== 'ok') return 'more';
      r.helloSent = true;
      this.recorder.rec(EV.PLOCK_TX, MsgKind.Hello, bytes.length, 0);
    }
    return r.hellos.size === r.info.members.length ? 'done' : 'more';
  }

  syncActivate(): void {
    const r = this.round;
    if (!r) return;
    this.round = undefined;
    const ringId = r.info.ringId;
    const deferred = this.deferred;
    this.deferred = [];
    const previous = this.incarnations;
    this.incarnations = new Map(r.info.members.map((n) => [n, r.hellos.get(n)?.incarnation ?? 0]));
    const inits = r.info.members.filter((n) => r.hellos.get(n)?.initialized);
    if (inits.length === 0) {
      // The cluster starts: every member begins with no locks.
      this.initialized = true;
      this.resources = new Map();
      this.identity = { ring: ringId, count: 0, digest: 0 };
      this.recorder.rec(EV.PLOCK_ACTIVATE, 3, r.info.members.length, 0, 0);
      this.settling = false;
      this.settleAgreed();
      this.replay(deferred);
      this.settleOrphans();
      this.becameReady();
      return;
    }
    // Members with equal identities hold equal state. The largest such group wins (the side
    // with more nodes after a partition heals), ties to the group of the lowest node; its
    // lowest node is the keeper. `inits` is ascending, so the first group seen of a size wins.
    const groups = new Map<string, NodeId[]>();
    for (const n of inits) {
      const s = r.hellos.get(n)!.state;
      const id = `${s.ring.rep}.${s.ring.seq}.${s.count}.${s.digest}`;
      const g = groups.get(id);
      if (g) g.push(n);
      else groups.set(id, [n]);
    }
    let chosen: NodeId[] = [];
    for (const g of groups.values()) if (g.length > chosen.length) chosen = g;
    const keeper = chosen[0]!;
    const authority = new Set(chosen);
    if (authority.has(this.nodeId)) {
      const needStore = r.info.members.some((n) => !authority.has(n));
      this.recorder.rec(
        EV.PLOCK_ACTIVATE,
        needStore && keeper === this.nodeId ? 1 : 0,
        r.info.members.length,
        authority.size,
        keeper,
      );
      this.identity = { ring: ringId, count: 0, digest: 0 };
      // Every member of this group holds the same state and sees the same hellos: the same
      // nodes are released everywhere, and the keeper's checkpoint is the state after it.
      this.settling = false;
      this.releaseAbsent(r, previous);
      this.settleAgreed();
      if (needStore && keeper === this.nodeId) this.startStore(ringId, this.snapshot());
      this.replay(deferred);
      this.becameReady();
      return;
    }
    // This node's state is not the agreed one: wait for the keeper's checkpoint.
    if (this.initialized) {
      let locks = 0;
      for (const res of this.resources.values()) locks += res.table.locks.length;
      this.counters.discards++;
      this.recorder.rec(EV.PLOCK_DISCARDED, this.resources.size, locks);
      // This node's waits and grants are decided again from the agreed state once loaded;
      // its clients' locks that the agreed state lacks are reported LOST then.
      const atRisk: NonNullable<typeof this.atRisk> = [];
      this.ownTables = new Map();
      for (const [k, res] of this.resources) {
        if (res.owner === this.nodeId) this.ownTables.set(k, res.table);
        for (const l of res.table.locks) {
          if (l.nodeId === this.nodeId) atRisk.push({ k, space: res.space, inode: res.inode, lock: l });
        }
        for (const w of res.table.waiters) {
          if (w.nodeId === this.nodeId) this.unsettled.push({ client: w.client, reqId: w.reqId, k, lock: w });
        }
      }
      this.atRisk = [...(this.atRisk ?? []), ...atRisk];
    }
    this.recorder.rec(EV.PLOCK_ACTIVATE, 2, r.info.members.length, authority.size, keeper);
    this.resources = new Map();
    for (const l of this.local.values()) {
      l.ownSent = false;
      l.waitOwner = 0;
      l.handingOver = false;
    }
    this.initialized = true;
    this.waitStored = { ringId, keeper };
    this.held = deferred;
  }

  syncAbort(): void {
    this.round = undefined;
    const dropped = this.deferred;
    this.deferred = [];
    // Nobody applied them (every member of the ring was in the round): their senders send them again.
    // Not the ops of a client gone since: its CLOSE may already be on its way, and an op sent
    // again would then be ordered after it and lock for a client that no longer exists.
    // A HANDOVER sent again carries no lock or waiter of such a client, for the same reason.
    const mine = dropped
      .filter((d) => d.sender === this.nodeId && !(d.m.kind === 'op' && this.goneClients.has(d.m.client)))
      .map((d) => (d.m.kind === 'handover' ? this.withoutGoneClients(d.m, d.bytes) : d.bytes));
    this.outbox.unshift(...mine);
    this.counters.resubmitted += mine.length;
    this.recorder.rec(EV.PLOCK_SYNC_ABORT, dropped.length, mine.length);
  }

  private withoutGoneClients(m: Extract<PlockMessage, { kind: 'handover' }>, bytes: Uint8Array): Uint8Array {
    const kept = (o: LockRecord): boolean => !(o.nodeId === this.nodeId && this.goneClients.has(o.client));
    const locks = m.records.locks.filter(kept);
    const waiters = m.records.waiters.filter(kept);
    if (locks.length === m.records.locks.length && waiters.length === m.records.waiters.length) return bytes;
    return encodeMessage({ ...m, records: { locks, waiters } });
  }

  private hello(sender: NodeId, m: Extract<PlockMessage, { kind: 'hello' }>): void {
    const r = this.round;
    if (!r || !sameRing(r.info.ringId, m.ringId) || !r.info.members.includes(sender)) {
      this.recorder.rec(EV.PLOCK_SYNC_STALE, sender, MsgKind.Hello, m.ringId.seq >>> 0);
      return;
    }
    this.recorder.rec(
      EV.PLOCK_HELLO_RX,
      sender,
      m.initialized ? 1 : 0,
      m.state.ring.seq >>> 0,
      m.state.count >>> 0,
    );
    r.hellos.set(sender, { initialized: m.initialized, state: m.state, incarnation: m.incarnation });
  }

  private replay(messages: readonly Held[]): void {
    for (const h of messages)
      this.apply(h.sender, h.m as Exclude<PlockMessage, { kind: 'hello' | 'stored' }>, h.bytes);
  }

  private becameReady(): void {
    const waiting = this.unready;
    this.unready = [];
    for (const u of waiting) this.handleRequest(u.client, u.req);
    for (const k of this.local.keys()) this.kick(k);
    this.pump();
  }

  /**
   * Answers or asks again what the orphaned ops asked, from the state just loaded: a lock
   * still waiting there waits on; one the owner holds as asked is granted; any other op is
   * sent again (a lock that was refused or never applied is a new attempt; unlock and cancel
   * are idempotent).
   */
  private settleOrphans(): void {
    const orphans = this.orphans;
    this.orphans = [];
    for (const m of orphans) {
      if (this.goneClients.has(m.client)) continue;
      if (m.op === 'lock') {
        if (!this.waits.has(waitKey(m.client, m.reqId))) continue;
        const t = this.resources.get(key(m.space, m.inode))?.table;
        const mine = (o: LockRecord): boolean =>
          o.nodeId === this.nodeId && o.client === m.client && o.owner === m.owner;
        if (t?.waiters.some((w) => mine(w) && w.reqId === m.reqId)) continue;
        if (
          t?.locks.some((l) => mine(l) && l.exclusive === m.exclusive && l.start <= m.start && l.end >= m.end)
        ) {
          this.lockAnswered(m.client, m.reqId);
          continue;
        }
      }
      this.counters.resubmitted++;
      this.send(m);
    }
  }

  // ---- checkpoints -------------------------------------------------------------------------

  private snapshot(): StoreJob['snapshot'] {
    const out: StoreJob['snapshot'] = new Map();
    for (const r of this.resources.values()) {
      let list = out.get(r.space);
      if (!list) {
        list = [];
        out.set(r.space, list);
      }
      // Another owner keeps its table to itself: its section records only who owns the resource.
      const data =
        r.owner === 0 || r.owner === this.nodeId
          ? encodeRecords({ locks: r.table.locks, waiters: r.table.waiters })
          : new Uint8Array(0);
      list.push({ inode: r.inode, owner: r.owner, data });
    }
    return out;
  }

  private attributes(): CreationAttributes {
    const maxSections = 1 << 20;
    return {
      creationFlags: CreationFlags.WrAllReplicas,
      checkpointSize: maxSections * this.maxSectionSize,
      retentionDuration: TIME_END,
      maxSections,
      maxSectionSize: this.maxSectionSize,
      maxSectionIdSize: SECTION_ID_BYTES,
    };
  }

  private startStore(ringId: RingId, snapshot: StoreJob['snapshot']): void {
    const gen = ++this.storeGen;
    const job: StoreJob = { gen, ringId, snapshot, outstanding: 0, failed: false, requests: 0 };
    this.store = job;
    this.counters.stores++;
    const spaces = new Set(snapshot.keys());
    for (const name of this.ckpt.database.linked.keys()) {
      if (name.startsWith(CHECKPOINT_PREFIX)) spaces.add(name.slice(CHECKPOINT_PREFIX.length));
    }
    let sections = 0;
    let empty = 0;
    for (const list of snapshot.values()) {
      sections += list.length;
      for (const s of list) if (s.data.length === 0) empty++;
    }
    this.recorder.rec(EV.PLOCK_STORE_BEGIN, ringId.seq >>> 0, spaces.size, sections, empty);
    for (const space of [...spaces].sort()) {
      this.ckptCall(job, space, 'open', {
        kind: 'open',
        reqId: 0,
        name: checkpointName(space),
        flags: OpenFlags.Read | OpenFlags.Write | OpenFlags.Create,
        attributes: this.attributes(),
      });
    }
    this.finishStoreIfDone(job);
  }

  private ckptCall(job: StoreJob, space: string, step: CkptCall['step'], req: CkptRequest): void {
    const reqId = this.nextCkptReq;
    this.nextCkptReq = this.nextCkptReq >= 0x7fffffff ? 1 : this.nextCkptReq + 1;
    this.ckptCalls.set(reqId, { gen: job.gen, space, step });
    job.outstanding++;
    job.requests++;
    this.ckpt.request(this.ckptClient, { ...req, reqId } as CkptRequest, this.now);
  }

  /** A CkptService reply to this service's client id (the driver routes them here). */
  ckptReply(reply: CkptReply): void {
    const call = this.ckptCalls.get(reply.reqId);
    if (!call) return;
    this.ckptCalls.delete(reply.reqId);
    const job = this.store;
    if (!job || job.gen !== call.gen) return;
    job.outstanding--;
    if (reply.error) {
      this.counters.storeFailures++;
      this.recorder.rec(EV.PLOCK_STORE_FAILED, reply.error.code);
      if (!job.failed) {
        job.failed = true;
        this.storeRetryAt = this.now + STORE_RETRY_MS;
      }
      return;
    }
    if (job.failed) return;
    if (call.step === 'open') this.writeSpace(job, call.space, reply.handle!);
    this.finishStoreIfDone(job);
  }

  private writeSpace(job: StoreJob, space: string, handle: number): void {
    const c = this.ckpt.database.linked.get(checkpointName(space));
    const existing = new Set<string>();
    if (c) for (const s of c.sections.values()) existing.add(fromUtf8.decode(s.id));
    const wanted = job.snapshot.get(space) ?? [];
    const names = new Set<string>();
    for (const s of wanted) {
      const name = sectionName(s.inode, s.owner);
      names.add(name);
      const sectionId = utf8.encode(name);
      if (existing.has(name)) {
        this.ckptCall(job, space, 'section', {
          kind: 'overwrite',
          reqId: 0,
          handle,
          sectionId,
          data: s.data,
        });
      } else {
        this.ckptCall(job, space, 'section', {
          kind: 'sectionCreate',
          reqId: 0,
          handle,
          sectionId,
          expirationTime: TIME_END,
          initialData: s.data,
        });
      }
    }
    for (const name of [...existing].sort()) {
      if (!names.has(name)) {
        this.ckptCall(job, space, 'section', {
          kind: 'sectionDelete',
          reqId: 0,
          handle,
          sectionId: utf8.encode(name),
        });
      }
    }
    this.ckptCall(job, space, 'close', { kind: 'close', reqId: 0, handle });
  }

  private finishStoreIfDone(job: StoreJob): void {
    if (job.outstanding > 0 || job.failed || this.store !== job) return;
    this.store = undefined;
    this.send({ kind: 'stored', ringId: job.ringId });
    this.recorder.rec(EV.PLOCK_STORED_TX, job.ringId.seq >>> 0, job.requests);
    this.pump();
  }

  private stored(sender: NodeId, ringId: RingId): void {
    const w = this.waitStored;
    if (!w || !sameRing(w.ringId, ringId) || sender !== w.keeper) {
      if (!sameRing(this.identity.ring, ringId)) {
        this.recorder.rec(EV.PLOCK_SYNC_STALE, sender, MsgKind.Stored, ringId.seq >>> 0);
      }
      return;
    }
    this.load();
    const held = this.held;
    this.held = [];
    this.waitStored = undefined;
    this.identity = { ring: ringId, count: 0, digest: 0 };
    // The checkpoint is the agreed state at activation, the cut before the held messages.
    this.settling = false;
    this.settleAgreed();
    this.replay(held);
    this.settleOrphans();
    let locks = 0;
    for (const r of this.resources.values()) locks += r.table.locks.length;
    this.counters.loads++;
    const spaces = new Set([...this.resources.values()].map((r) => r.space));
    this.recorder.rec(EV.PLOCK_LOADED, spaces.size, this.resources.size, locks, held.length);
    this.becameReady();
  }

  private load(): void {
    this.resources = new Map();
    for (const [name, c] of this.ckpt.database.linked) {
      if (!name.startsWith(CHECKPOINT_PREFIX)) continue;
      const space = name.slice(CHECKPOINT_PREFIX.length);
      for (const s of c.sections.values()) {
        const parsed = parseSectionName(fromUtf8.decode(s.id));
        if (!parsed) {
          this.recorder.rec(EV.PLOCK_BAD_SECTION, this.recorder.intern(space), s.id.length);
          continue;
        }
        let table = new LockTable();
        if (parsed.owner === this.nodeId) {
          // The agreed state says this node still owns it (nobody else could grant in it):
          // its table is the one this node kept.
          table = this.ownTables.get(key(space, parsed.inode)) ?? table;
        } else if (parsed.owner === 0) {
          try {
            const rec = decodeRecords(s.data);
            table.locks = [...rec.locks];
            table.waiters = [...rec.waiters];
          } catch (e) {
            if (!(e instanceof DecodeError)) throw e;
            this.recorder.rec(EV.PLOCK_BAD_SECTION, this.recorder.intern(space), s.data.length);
          }
        }
        this.resources.set(key(space, parsed.inode), {
          space,
          inode: parsed.inode,
          owner: parsed.owner,
          table,
        });
      }
    }
    this.ownTables = new Map();
  }
}

function opMessage(
  origin: NodeId,
  client: ClientId,
  req: Exclude<LocalRequest, { kind: 'test' }>,
  target: { space: string; inode: number },
): OpMessage {
  if (req.kind === 'cancel') {
    return {
      kind: 'op',
      op: 'cancel',
      origin,
      client,
      reqId: req.reqId,
      target: req.target,
      exclusive: false,
      wait: false,
      space: target.space,
      inode: target.inode,
      start: 0,
      end: 0,
      owner: 0,
    };
  }
  return {
    kind: 'op',
    op: req.kind,
    origin,
    client,
    reqId: req.reqId,
    target: 0,
    exclusive: req.kind === 'lock' && req.exclusive,
    wait: req.kind === 'lock' && req.wait,
    space: req.space,
    inode: req.inode,
    start: req.start,
    end: req.end,
    owner: req.owner,
  };
}

/** 32-bit FNV-1a, continued from `h`. */
function fnv1a(h: number, bytes: Uint8Array): number {
  let x = h ^ 0x811c9dc5;
  for (const b of bytes) x = Math.imul(x ^ b, 0x01000193);
  return x >>> 0;
}

/** True when the table holds `lock`'s whole range for its owner, with at least its strength. */
/** The parts of `lock`'s range that no range in `held` covers, as [start, end] pairs. */
function rangesNotCovered(lock: LockRecord, held: readonly LockRecord[]): [number, number][] {
  const out: [number, number][] = [];
  let next = lock.start;
  for (const h of [...held].sort((a, b) => a.start - b.start)) {
    if (h.end < next) continue;
    if (h.start > lock.end) break;
    if (h.start > next) out.push([next, h.start - 1]);
    if (h.end >= lock.end) return out;
    next = h.end + 1;
  }
  if (next <= lock.end) out.push([next, lock.end]);
  return out;
}

function covers(table: LockTable, nodeId: NodeId, lock: LockRecord): boolean {
  const mine = table.locks
    .filter(
      (l) =>
        l.nodeId === nodeId &&
        l.client === lock.client &&
        l.owner === lock.owner &&
        (l.exclusive || !lock.exclusive),
    )
    .sort((a, b) => a.start - b.start);
  let next = lock.start;
  for (const l of mine) {
    if (l.start > next) return false;
    if (l.end >= lock.end) return true;
    if (l.end >= next) next = l.end + 1;
  }
  return false;
}

function holderOf(r: { space: string; inode: number }, l: LockRecord): PlockHolder {
  return {
    space: r.space,
    inode: r.inode,
    start: l.start,
    end: l.end,
    exclusive: l.exclusive,
    nodeId: l.nodeId,
    owner: l.owner,
  };
}

function inodeOf(req: PlockRequest): number {
  return 'inode' in req && typeof req.inode === 'number' ? req.inode >>> 0 : 0;
}

function checkRequest(req: PlockRequest): PlockServiceError | undefined {
  const bad = (detail: string): PlockServiceError => new PlockServiceError('INVALID_PARAM', detail);
  if (!isU32(req.reqId)) return bad('reqId');
  if (req.kind === 'cancel') return isU32(req.target) ? undefined : bad('target');
  const n = typeof req.space === 'string' ? utf8.encode(req.space).length : 0;
  if (n === 0 || n > MAX_SPACE_BYTES) return bad(`space must be 1..${MAX_SPACE_BYTES} bytes`);
  if (req.kind === 'list')
    return req.inode === undefined || isSafeOffset(req.inode) ? undefined : bad('inode');
  if (!isSafeOffset(req.inode)) return bad('inode');
  if (!isSafeOffset(req.start) || !isSafeOffset(req.end) || req.end > PLOCK_EOF || req.start > req.end) {
    return bad('range');
  }
  if (!isU32(req.owner)) return bad('owner');
  return undefined;
}
