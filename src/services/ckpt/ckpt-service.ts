/**
 * CkptService: the AIS checkpoint service as a sans-IO replicated state machine.
 *
 * - Requests arrive as typed objects from a local client id (`request`); replies leave through
 *   `onReply`. Updates are multicast in pg group "ckpt" and applied by every replica in ring
 *   order; only the originating node replies. Reads, status and iteration are answered locally.
 * - Updates delivered while a sync round runs wait (in delivery order, identical on every
 *   member) and are applied right after activate; an aborted round drops them and their
 *   originators answer TRY_AGAIN.
 * - Time enters through `now` on every input. Retention and section expiry are found by
 *   `tick(now)` on the lowest node of the last synchronized ring and multicast as ordered
 *   updates, which apply only if nothing changed since (so every replica expires the same way).
 * - Implements SyncParticipant: see sync-round.ts for the sender rule and the merge rule.
 */

import type { Configuration, NodeId } from '../../core/io.js';
import { Guarantee } from '../../core/io.js';
import type { SyncParticipant, SyncProgress, SyncRound } from '../../core/sync-participant.js';
import type { ProcessGroups } from '../../pg/process-groups.js';
import { EV } from '../../recorder/events/index.js';
import type { Recorder } from '../../recorder/recorder.js';
import type { SyncStatus } from '../../sync/sync-engine.js';
import { sameRing } from '../../sync/wire.js';
import { DecodeError } from '../../wire/decode-error.js';
import {
  type ApplyResult,
  type Checkpoint,
  CkptDatabase,
  memoryUsed,
  sectionKey,
  type Update,
  type UpdateEnvelope,
} from './database.js';
import {
  AisError,
  type AisErrorCode,
  CKPT_SYNC_ERROR_CODES,
  CkptError,
  CkptSyncProtocolError,
} from './errors.js';
import { SyncReceiver } from './sync-round.js';
import {
  type CkptHandle,
  type CkptId,
  type CkptReply,
  type CkptRequest,
  type ClientId,
  CREATION_FLAGS_ALL,
  type CreationAttributes,
  CreationFlags,
  type IterationHandle,
  OPEN_FLAGS_ALL,
  OpenFlags,
  type SectionDescriptor,
  SectionsChosen,
  TIME_END,
} from './types.js';
import {
  decodeCkptMessage,
  encodeCheckpoint,
  encodeEnd,
  encodeHello,
  encodeSectionPieces,
  encodeUpdate,
  SyncKind,
  type SyncMessage,
  UpdateKind,
} from './wire.js';

export const CKPT_GROUP = 'ckpt';
export const CKPT_SERVICE_NAME = 'ckpt';
/** SaNameT holds 256 bytes. */
export const MAX_NAME_BYTES = 256;
/** Room kept in a pg message for a sync SECTION's headers next to the section's id and data. */
export const SECTION_MESSAGE_OVERHEAD = 1024;
/** Section ids travel with a u16 length. */
export const MAX_SECTION_ID_SIZE = 0xffff;

export interface CkptServiceOptions {
  readonly pg: ProcessGroups;
  readonly recorder: Recorder;
  readonly nodeId: NodeId;
  /** The sync engine (or anything that says whether a round runs and can fail one). */
  readonly sync: SyncStatus;
  readonly onReply: (reply: CkptReply) => void;
  /**
   * Distinguishes this run of the node from earlier ones in checkpoint ids (e.g. the boot count
   * or start time, from the driver). Default 0.
   */
  readonly incarnation?: number;
  readonly group?: string;
  /**
   * Observation only (the simulator's checks): the database a sync round activated, called
   * after the merge and before the updates queued during the round apply. Must not change it.
   */
  readonly onActivated?: (db: CkptDatabase, round: SyncRound) => void;
}

export interface CkptServiceStats {
  updatesSent: number;
  updatesApplied: number;
  updatesDeferred: number;
  deferredDropped: number;
  badMessages: number;
  syncStale: number;
  syncRoundsActivated: number;
  mergeConflicts: number;
  expiriesSent: number;
}

interface HandleEntry {
  readonly client: ClientId;
  readonly ckptId: CkptId;
  readonly flags: number;
  closing: boolean;
}

interface Pending {
  readonly client: ClientId;
  readonly reqId: number;
  readonly kind: CkptRequest['kind'];
  readonly handle?: CkptHandle;
  readonly flags?: number;
  /** The client went away while this was in flight: no reply; an open is closed again. */
  orphan: boolean;
}

interface IterationEntry {
  readonly client: ClientId;
  readonly list: SectionDescriptor[];
  pos: number;
}

type OutItem =
  | { readonly kind: 'hello' }
  | { readonly kind: 'checkpoint'; readonly c: Checkpoint }
  | { readonly kind: 'section'; readonly c: Checkpoint; readonly key: string }
  | { readonly kind: 'end' };

interface LocalRound {
  readonly info: SyncRound;
  readonly sender: boolean;
  readonly groupSize: number;
  readonly receiver: SyncReceiver;
  readonly out: OutItem[];
  sent: number;
  checkpointsSent: number;
  sectionsSent: number;
}

const UPDATE_NEEDS_WRITE = new Set<CkptRequest['kind']>([
  'sectionCreate',
  'sectionDelete',
  'write',
  'overwrite',
  'expirationTimeSet',
]);

const utf8 = new TextEncoder();

export class CkptService implements SyncParticipant {
  readonly serviceName = CKPT_SERVICE_NAME;
  readonly nodeId: NodeId;
  readonly incarnation: number;
  readonly group: string;
  /** Protocol errors found in received sync data (each aborted its round). */
  readonly protocolErrors: CkptSyncProtocolError[] = [];
  private readonly pg: ProcessGroups;
  private readonly recorder: Recorder;
  private readonly sync: SyncStatus;
  private readonly onReply: (reply: CkptReply) => void;
  private readonly onActivated: ((db: CkptDatabase, round: SyncRound) => void) | undefined;
  private db = new CkptDatabase();
  private readonly handles = new Map<CkptHandle, HandleEntry>();
  private readonly iterations = new Map<IterationHandle, IterationEntry>();
  private readonly pending = new Map<number, Pending>();
  private deferred: UpdateEnvelope[] = [];
  private readonly expiriesRequested = new Set<string>();
  /**
   * The members of the last round this node activated that have stayed with it through every
   * configuration since (a node that left, even one restarted under the same id, no longer holds
   * this database): the sender rule's group.
   */
  private committedMembers: NodeId[];
  /** The members of the last transitional configuration (those that came along from the old ring). */
  private cameAlong: readonly NodeId[] = [];
  private round: LocalRound | undefined;
  private nextSeq = 1;
  private nextHandle = 1;
  private nextIteration = 1;
  private now = 0;
  private readonly counters: CkptServiceStats = {
    updatesSent: 0,
    updatesApplied: 0,
    updatesDeferred: 0,
    deferredDropped: 0,
    badMessages: 0,
    syncStale: 0,
    syncRoundsActivated: 0,
    mergeConflicts: 0,
    expiriesSent: 0,
  };

  constructor(opts: CkptServiceOptions) {
    this.pg = opts.pg;
    this.recorder = opts.recorder;
    this.nodeId = opts.nodeId;
    this.sync = opts.sync;
    this.onReply = opts.onReply;
    this.onActivated = opts.onActivated;
    this.incarnation = opts.incarnation ?? 0;
    this.group = opts.group ?? CKPT_GROUP;
    // Until a round commits, this node's database is its own.
    this.committedMembers = [this.nodeId];
    this.pg.join(this.group, {
      deliver: (_g, sender, message) => this.deliver(sender, message),
      configurationChange: (conf) => this.configurationChange(conf),
    });
  }

  get stats(): Readonly<CkptServiceStats> {
    return { ...this.counters };
  }

  /** The replica (read-only use: tests compare replicas with `database.dump()`). */
  get database(): CkptDatabase {
    return this.db;
  }

  /** Open handles of this node (all clients). */
  get openHandles(): number {
    return this.handles.size;
  }

  /** This node's open handles per checkpoint id: its share of the reference counts. */
  handleCounts(): Map<CkptId, number> {
    const counts = new Map<CkptId, number>();
    for (const h of this.handles.values()) counts.set(h.ckptId, (counts.get(h.ckptId) ?? 0) + 1);
    return counts;
  }

  // ---- client requests ---------------------------------------------------------------------

  request(client: ClientId, req: CkptRequest, now: number): void {
    this.now = now;
    this.recorder.rec(EV.CKPT_REQUEST, client, kindNumber(req.kind), req.reqId);
    const error = this.handleRequest(client, req);
    if (error) this.reply({ client, reqId: req.reqId, kind: req.kind, error });
  }

  /** A client disconnected: its handles are closed through the ring, its iterations dropped. */
  clientGone(client: ClientId, now: number): void {
    this.now = now;
    for (const p of this.pending.values()) if (p.client === client) p.orphan = true;
    for (const [id, it] of this.iterations) if (it.client === client) this.iterations.delete(id);
    for (const [handle, h] of this.handles) {
      if (h.client !== client || h.closing) continue;
      h.closing = true;
      this.submit(
        { op: 'close', ckptId: h.ckptId },
        { client, reqId: 0, kind: 'close', handle, orphan: true },
      );
    }
  }

  /**
   * Time passes: on the node in charge of expiry (the lowest of the last synchronized ring),
   * multicasts the retention and section expiries that are due.
   */
  tick(now: number): void {
    this.now = now;
    if (this.sync.inProgress || this.nodeId !== Math.min(...this.committedMembers)) return;
    for (const c of this.db.byId.values()) {
      const since = c.unreferencedSince;
      if (!c.unlinked && since !== undefined && since + c.attributes.retentionDuration <= now) {
        this.expire(`r:${c.id}:${c.version}`, { op: 'expireRetention', ckptId: c.id, version: c.version });
      }
      for (const [key, s] of c.sections) {
        if (s.expiration <= now && s.expiration !== TIME_END) {
          this.expire(`s:${c.id}:${key}:${s.expiration}`, {
            op: 'expireSection',
            ckptId: c.id,
            sectionId: s.id,
            expiration: s.expiration,
          });
        }
      }
    }
  }

  /** The earliest time at which `tick` has something to do (undefined: nothing scheduled). */
  nextDeadline(): number | undefined {
    let next = Number.POSITIVE_INFINITY;
    for (const c of this.db.byId.values()) {
      if (!c.unlinked && c.unreferencedSince !== undefined) {
        next = Math.min(next, c.unreferencedSince + c.attributes.retentionDuration);
      }
      for (const s of c.sections.values()) next = Math.min(next, s.expiration);
    }
    return Number.isFinite(next) ? next : undefined;
  }

  private handleRequest(client: ClientId, req: CkptRequest): CkptError | undefined {
    switch (req.kind) {
      case 'open': {
        const bad = checkName(req.name) ?? checkOpen(req.flags, req.attributes, this.pg.maxMessageSize);
        if (bad) return bad;
        return this.submit(
          { op: 'open', name: req.name, flags: req.flags, attributes: req.attributes },
          { client, reqId: req.reqId, kind: req.kind, flags: req.flags, orphan: false },
        );
      }
      case 'unlink': {
        const bad = checkName(req.name);
        if (bad) return bad;
        return this.submit(
          { op: 'unlink', name: req.name },
          { client, reqId: req.reqId, kind: req.kind, orphan: false },
        );
      }
      case 'iterationNext': {
        const it = this.iterations.get(req.iteration);
        if (!it || it.client !== client) return new CkptError(AisError.BAD_HANDLE, 'no such iteration');
        if (it.pos >= it.list.length) return new CkptError(AisError.NO_SECTIONS);
        const descriptor = it.list[it.pos++]!;
        this.reply({ client, reqId: req.reqId, kind: req.kind, descriptor });
        return undefined;
      }
      case 'iterationFinalize': {
        const it = this.iterations.get(req.iteration);
        if (!it || it.client !== client) return new CkptError(AisError.BAD_HANDLE, 'no such iteration');
        this.iterations.delete(req.iteration);
        this.reply({ client, reqId: req.reqId, kind: req.kind });
        return undefined;
      }
      default:
        break;
    }
    const h = this.handles.get(req.handle);
    if (!h || h.client !== client || h.closing) return new CkptError(AisError.BAD_HANDLE);
    const c = this.db.byId.get(h.ckptId);
    if (!c) return new CkptError(AisError.BAD_HANDLE, 'the checkpoint is gone');
    if (UPDATE_NEEDS_WRITE.has(req.kind) && !(h.flags & OpenFlags.Write))
      return new CkptError(AisError.ACCESS);
    const pending = (): Pending => ({
      client,
      reqId: req.reqId,
      kind: req.kind,
      handle: req.handle,
      orphan: false,
    });
    switch (req.kind) {
      case 'close':
        h.closing = true;
        return this.submit({ op: 'close', ckptId: c.id }, pending());
      case 'retentionDurationSet':
        if (!(req.duration >= 0)) return new CkptError(AisError.INVALID_PARAM, 'negative duration');
        return this.submit({ op: 'retentionDurationSet', ckptId: c.id, duration: req.duration }, pending());
      case 'sectionCreate':
        return this.submit(
          {
            op: 'sectionCreate',
            ckptId: c.id,
            sectionId: req.sectionId,
            expiration: req.expirationTime,
            data: req.initialData,
          },
          pending(),
        );
      case 'sectionDelete':
        return this.submit({ op: 'sectionDelete', ckptId: c.id, sectionId: req.sectionId }, pending());
      case 'write':
        if (req.elements.some((e) => !(e.offset >= 0) || !Number.isSafeInteger(e.offset))) {
          return new CkptError(AisError.INVALID_PARAM, 'bad offset');
        }
        return this.submit(
          {
            op: 'write',
            ckptId: c.id,
            elements: req.elements.map((e) => ({ sectionId: e.sectionId, offset: e.offset, data: e.data })),
          },
          pending(),
        );
      case 'overwrite':
        return this.submit(
          { op: 'overwrite', ckptId: c.id, sectionId: req.sectionId, data: req.data },
          pending(),
        );
      case 'expirationTimeSet':
        return this.submit(
          { op: 'expirationTimeSet', ckptId: c.id, sectionId: req.sectionId, expiration: req.expirationTime },
          pending(),
        );
      case 'synchronize':
        return this.submit({ op: 'synchronize', ckptId: c.id }, pending());
      case 'read':
        if (!(h.flags & OpenFlags.Read)) return new CkptError(AisError.ACCESS);
        return this.read(client, req.reqId, c, req.elements);
      case 'status':
        this.reply({
          client,
          reqId: req.reqId,
          kind: req.kind,
          status: { attributes: c.attributes, numberOfSections: c.sections.size, memoryUsed: memoryUsed(c) },
        });
        return undefined;
      case 'iterationInitialize': {
        const list = chooseSections(c, req.sectionsChosen, req.expirationTime);
        if (!list) return new CkptError(AisError.INVALID_PARAM, 'sectionsChosen');
        const iteration = this.nextIteration++;
        this.iterations.set(iteration, { client, list, pos: 0 });
        this.reply({ client, reqId: req.reqId, kind: req.kind, iteration });
        return undefined;
      }
    }
  }

  private read(
    client: ClientId,
    reqId: number,
    c: Checkpoint,
    elements: readonly { sectionId: Uint8Array; offset: number; size: number }[],
  ): CkptError | undefined {
    const data: Uint8Array[] = [];
    for (let i = 0; i < elements.length; i++) {
      const e = elements[i]!;
      const s = c.sections.get(sectionKey(e.sectionId));
      let error: CkptError | undefined;
      if (!s) error = new CkptError(AisError.NOT_EXIST);
      else if (
        !(e.size >= 0) ||
        e.size > c.attributes.maxSectionSize ||
        !(e.offset >= 0) ||
        e.offset > s.data.length
      ) {
        error = new CkptError(AisError.INVALID_PARAM);
      }
      if (error || !s) {
        this.reply({ client, reqId, kind: 'read', error: error!, errorIndex: i });
        return undefined;
      }
      data.push(s.data.slice(e.offset, Math.min(s.data.length, e.offset + e.size)));
    }
    this.reply({ client, reqId, kind: 'read', data });
    return undefined;
  }

  // ---- updates through the ring ------------------------------------------------------------

  private submit(update: Update, pending: Pending | undefined): CkptError | undefined {
    const seq = this.nextSeq;
    const env: UpdateEnvelope = {
      origin: this.nodeId,
      incarnation: this.incarnation,
      seq,
      time: this.now,
      update,
    };
    const bytes = encodeUpdate(env);
    const r = this.pg.send(this.group, bytes, Guarantee.Agreed);
    if (r.kind !== 'ok') {
      if (pending?.handle !== undefined && pending.kind === 'close') {
        const h = this.handles.get(pending.handle);
        if (h) h.closing = false;
      }
      return r.kind === 'too-large'
        ? new CkptError(AisError.TOO_BIG, `request of ${r.size} bytes`)
        : new CkptError(AisError.TRY_AGAIN, 'send queue full');
    }
    this.nextSeq = (seq + 1) >>> 0 || 1;
    this.counters.updatesSent++;
    this.recorder.rec(EV.CKPT_OP_TX, UpdateKind[update.op], seq, bytes.length);
    if (pending) this.pending.set(seq, pending);
    return undefined;
  }

  private expire(key: string, update: Update): void {
    if (this.expiriesRequested.has(key)) return;
    if (this.submit(update, undefined) === undefined) {
      this.expiriesRequested.add(key);
      this.counters.expiriesSent++;
      this.recorder.rec(EV.CKPT_EXPIRE_TX, UpdateKind[update.op], 0);
    }
  }

  private deliver(sender: NodeId, bytes: Uint8Array): void {
    let m: ReturnType<typeof decodeCkptMessage>;
    try {
      m = decodeCkptMessage(bytes);
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
      this.counters.badMessages++;
      this.recorder.rec(EV.CKPT_BAD_MESSAGE, sender, bytes.length, e.offset);
      // Lost sync data would leave the round waiting forever: refuse the round instead.
      const kind = bytes[0] ?? 0;
      if (this.round && kind >= SyncKind.Hello && kind <= SyncKind.End) {
        this.protocolError(new CkptSyncProtocolError('undecodable', sender, e.message), kind);
      }
      return;
    }
    if (m.kind === 'update') {
      if (this.sync.inProgress) {
        this.deferred.push(m.env);
        this.counters.updatesDeferred++;
        this.recorder.rec(EV.CKPT_DEFERRED, m.env.origin, UpdateKind[m.env.update.op], m.env.seq);
      } else {
        this.applyUpdate(m.env);
      }
      return;
    }
    this.syncMessage(sender, m, bytes.length);
  }

  private applyUpdate(env: UpdateEnvelope): void {
    const result = this.db.apply(env);
    this.counters.updatesApplied++;
    this.recorder.rec(EV.CKPT_OP_APPLY, env.origin, UpdateKind[env.update.op], env.seq, result.code);
    if (env.origin !== this.nodeId || env.incarnation !== this.incarnation) return;
    const u = env.update;
    if (u.op === 'expireRetention') this.expiriesRequested.delete(`r:${u.ckptId}:${u.version}`);
    if (u.op === 'expireSection') {
      this.expiriesRequested.delete(`s:${u.ckptId}:${sectionKey(u.sectionId)}:${u.expiration}`);
    }
    const p = this.pending.get(env.seq);
    if (!p) return;
    this.pending.delete(env.seq);
    this.answer(p, result);
  }

  private answer(p: Pending, result: ApplyResult): void {
    const okay = result.code === AisError.OK;
    if (p.kind === 'close' && p.handle !== undefined) {
      if (okay) this.handles.delete(p.handle);
      else {
        const h = this.handles.get(p.handle);
        if (h) h.closing = false;
      }
    }
    if (p.kind === 'open' && okay) {
      const handle = this.nextHandle++;
      this.handles.set(handle, {
        client: p.client,
        ckptId: result.ckptId!,
        flags: p.flags ?? 0,
        closing: false,
      });
      if (p.orphan) {
        this.handles.get(handle)!.closing = true;
        this.submit({ op: 'close', ckptId: result.ckptId! }, { ...p, kind: 'close', handle, orphan: true });
        return;
      }
      this.reply({ client: p.client, reqId: p.reqId, kind: p.kind, handle });
      return;
    }
    if (p.orphan) return;
    if (!okay) {
      const error = new CkptError(result.code as Exclude<AisErrorCode, 1>);
      this.reply(
        result.errorIndex === undefined
          ? { client: p.client, reqId: p.reqId, kind: p.kind, error }
          : { client: p.client, reqId: p.reqId, kind: p.kind, error, errorIndex: result.errorIndex },
      );
      return;
    }
    if (p.kind === 'sectionCreate') {
      this.reply({ client: p.client, reqId: p.reqId, kind: p.kind, sectionId: result.sectionId! });
      return;
    }
    this.reply({ client: p.client, reqId: p.reqId, kind: p.kind });
  }

  private reply(r: CkptReply): void {
    this.recorder.rec(EV.CKPT_RESPONSE, r.client, kindNumber(r.kind), r.reqId, r.error?.code ?? AisError.OK);
    this.onReply(r);
  }

  // ---- SyncParticipant ---------------------------------------------------------------------

  /**
   * Keeps the group honest between activations: a node that did not come along into a new
   * configuration (it failed, left, or crashed and came back as a new process with an empty
   * database) is no longer a holder of this node's database, even if it is a member again.
   */
  private configurationChange(conf: Configuration): void {
    if (conf.kind === 'transitional') {
      this.cameAlong = conf.members;
      return;
    }
    const along = this.cameAlong;
    this.cameAlong = [];
    this.committedMembers = this.committedMembers.filter((n) => n === this.nodeId || along.includes(n));
  }

  syncInit(round: SyncRound): void {
    const group = this.committedMembers.filter((n) => round.members.includes(n));
    if (!group.includes(this.nodeId)) group.push(this.nodeId);
    const sender = Math.min(...group) === this.nodeId;
    const out: OutItem[] = [{ kind: 'hello' }];
    if (sender) {
      // The live database does not change during a round (updates wait), so walking it lazily is safe.
      for (const c of [...this.db.byId.values()].sort((a, b) => (a.id < b.id ? -1 : 1))) {
        out.push({ kind: 'checkpoint', c });
        for (const key of [...c.sections.keys()].sort()) out.push({ kind: 'section', c, key });
      }
      out.push({ kind: 'end' });
    }
    this.round = {
      info: round,
      sender,
      groupSize: group.length,
      receiver: new SyncReceiver(round.ringId, round.members),
      out,
      sent: 0,
      checkpointsSent: 0,
      sectionsSent: 0,
    };
    this.recorder.rec(EV.CKPT_SYNC_INIT, round.ringId.seq, sender ? 1 : 0, group.length, this.db.byId.size);
  }

  syncProcess(): SyncProgress {
    const r = this.round;
    if (!r) return 'done';
    while (r.sent < r.out.length) {
      const item = r.out[r.sent]!;
      const pieces = this.encodeItem(r, item);
      const result = this.pg.send(this.group, pieces, Guarantee.Agreed);
      if (result.kind !== 'ok') {
        if (result.kind === 'too-large')
          throw new Error(`ckpt sync message of ${result.size} bytes is too large`);
        return 'more';
      }
      let len = 0;
      for (const p of pieces) len += p.length;
      this.recorder.rec(EV.CKPT_SYNC_TX, item.kind === 'hello' ? SyncKind.Hello : outKind(item), len);
      if (item.kind === 'checkpoint') r.checkpointsSent++;
      if (item.kind === 'section') r.sectionsSent++;
      r.sent++;
    }
    // Done only when everything this round needs has arrived: never activate a partial database.
    return r.receiver.complete ? 'done' : 'more';
  }

  syncActivate(): void {
    const r = this.round;
    if (!r) return;
    if (!r.receiver.complete) throw new Error('ckpt: activate before the sync database is complete');
    const report = r.receiver.merge();
    for (const conflict of report.conflicts) {
      this.counters.mergeConflicts++;
      this.recorder.rec(
        EV.CKPT_MERGE_CONFLICT,
        this.recorder.intern(conflict.name),
        conflict.winner,
        conflict.loser,
      );
    }
    this.db = report.db;
    this.committedMembers = [...r.info.members];
    this.round = undefined;
    this.expiriesRequested.clear();
    this.counters.syncRoundsActivated++;
    let sections = 0;
    for (const c of this.db.byId.values()) sections += c.sections.size;
    this.recorder.rec(
      EV.CKPT_SYNC_ACTIVATE,
      this.db.byId.size,
      sections,
      report.senders,
      report.conflicts.length,
    );
    this.onActivated?.(this.db, r.info);
    // Updates ordered during the round, in their order, on the agreed database.
    const waiting = this.deferred;
    this.deferred = [];
    for (const env of waiting) this.applyUpdate(env);
  }

  syncAbort(): void {
    const ringSeq = this.round?.info.ringId.seq ?? 0;
    this.round = undefined;
    const dropped = this.deferred;
    this.deferred = [];
    this.counters.deferredDropped += dropped.length;
    this.recorder.rec(EV.CKPT_SYNC_ABORT, ringSeq, dropped.length);
    for (const env of dropped) {
      if (env.origin !== this.nodeId || env.incarnation !== this.incarnation) continue;
      const p = this.pending.get(env.seq);
      if (!p) continue;
      this.pending.delete(env.seq);
      this.answer(p, { code: AisError.TRY_AGAIN });
    }
  }

  private syncMessage(sender: NodeId, m: SyncMessage, len: number): void {
    const r = this.round;
    if (!r || !sameRing(r.info.ringId, m.ringId)) {
      this.counters.syncStale++;
      this.recorder.rec(EV.CKPT_SYNC_STALE, sender, m.kind, m.ringId.rep, m.ringId.seq);
      return;
    }
    this.recorder.rec(EV.CKPT_SYNC_RX, sender, m.kind, len);
    try {
      r.receiver.receive(sender, m);
    } catch (e) {
      if (!(e instanceof CkptSyncProtocolError)) throw e;
      this.protocolError(e, m.kind);
    }
  }

  private protocolError(e: CkptSyncProtocolError, kind: number): void {
    this.protocolErrors.push(e);
    this.recorder.rec(EV.CKPT_SYNC_PROTOCOL_ERROR, e.sender, kind, CKPT_SYNC_ERROR_CODES.indexOf(e.code));
    // Every member delivered the same bytes, so every member fails the round the same way.
    this.sync.abortRound(this.serviceName, e.message);
  }

  private encodeItem(r: LocalRound, item: OutItem): Uint8Array[] {
    const ringId = r.info.ringId;
    switch (item.kind) {
      case 'hello': {
        const handles = [...this.handleCounts().entries()]
          .sort((a, b) => (a[0] < b[0] ? -1 : 1))
          .map(([ckptId, count]) => ({ ckptId, count }));
        return [encodeHello({ ringId, sender: r.sender, groupSize: r.groupSize, time: this.now, handles })];
      }
      case 'checkpoint': {
        const c = item.c;
        return [
          encodeCheckpoint({
            ringId,
            ckptId: c.id,
            name: c.name,
            attributes: c.attributes,
            unlinked: c.unlinked,
            nextGeneratedId: c.nextGeneratedId,
            version: c.version,
            unreferencedSince: c.unreferencedSince,
            sections: c.sections.size,
          }),
        ];
      }
      case 'section': {
        const s = item.c.sections.get(item.key)!;
        return encodeSectionPieces({
          ringId,
          ckptId: item.c.id,
          sectionId: s.id,
          expiration: s.expiration,
          lastUpdate: s.lastUpdate,
          data: s.data,
        });
      }
      case 'end':
        return [encodeEnd({ ringId, checkpoints: r.checkpointsSent, sections: r.sectionsSent })];
    }
  }
}

function outKind(item: OutItem): number {
  if (item.kind === 'checkpoint') return SyncKind.Checkpoint;
  if (item.kind === 'section') return SyncKind.Section;
  if (item.kind === 'end') return SyncKind.End;
  return SyncKind.Hello;
}

const REQUEST_KINDS: readonly CkptRequest['kind'][] = [
  'open',
  'close',
  'unlink',
  'retentionDurationSet',
  'sectionCreate',
  'sectionDelete',
  'write',
  'overwrite',
  'read',
  'expirationTimeSet',
  'iterationInitialize',
  'iterationNext',
  'iterationFinalize',
  'status',
  'synchronize',
];

function kindNumber(kind: CkptRequest['kind']): number {
  return REQUEST_KINDS.indexOf(kind);
}

function checkName(name: string): CkptError | undefined {
  const bytes = utf8.encode(name).length;
  if (bytes === 0) return new CkptError(AisError.INVALID_PARAM, 'empty name');
  if (bytes > MAX_NAME_BYTES) return new CkptError(AisError.NAME_TOO_LONG);
  return undefined;
}

function checkOpen(
  flags: number,
  a: CreationAttributes | undefined,
  maxMessage: number,
): CkptError | undefined {
  if (!Number.isInteger(flags) || flags & ~OPEN_FLAGS_ALL)
    return new CkptError(AisError.BAD_FLAGS, 'open flags');
  const create = (flags & OpenFlags.Create) !== 0;
  if (create !== (a !== undefined)) {
    return new CkptError(
      AisError.INVALID_PARAM,
      'CREATE needs creation attributes, and only CREATE takes them',
    );
  }
  if (!a) return undefined;
  if (!Number.isInteger(a.creationFlags) || a.creationFlags & ~CREATION_FLAGS_ALL) {
    return new CkptError(AisError.BAD_FLAGS, 'creation flags');
  }
  const modes =
    a.creationFlags &
    (CreationFlags.WrAllReplicas | CreationFlags.WrActiveReplica | CreationFlags.WrActiveReplicaWeak);
  if (modes !== 1 && modes !== 2 && modes !== 4)
    return new CkptError(AisError.INVALID_PARAM, 'one update mode');
  const sizes = [a.checkpointSize, a.maxSections, a.maxSectionSize, a.maxSectionIdSize];
  if (
    sizes.some((v) => !Number.isSafeInteger(v) || v < 0) ||
    a.maxSections < 1 ||
    a.maxSections > 0xffffffff
  ) {
    return new CkptError(AisError.INVALID_PARAM, 'sizes');
  }
  if (!(a.retentionDuration >= 0)) return new CkptError(AisError.INVALID_PARAM, 'retention');
  // Every section must fit one sync message (id, data and headers): refuse what could never be synchronized.
  if (
    a.maxSectionIdSize > MAX_SECTION_ID_SIZE ||
    a.maxSectionSize + a.maxSectionIdSize + SECTION_MESSAGE_OVERHEAD > maxMessage
  ) {
    return new CkptError(
      AisError.INVALID_PARAM,
      `sections above ${maxMessage - SECTION_MESSAGE_OVERHEAD} bytes with their id`,
    );
  }
  if (a.checkpointSize > a.maxSections * a.maxSectionSize) {
    return new CkptError(AisError.INVALID_PARAM, 'checkpointSize > maxSections × maxSectionSize');
  }
  return undefined;
}

function chooseSections(c: Checkpoint, chosen: number, time: number): SectionDescriptor[] | undefined {
  const pick = (exp: number): boolean | undefined => {
    switch (chosen) {
      case SectionsChosen.Forever:
        return exp === TIME_END;
      case SectionsChosen.LeqExpirationTime:
        return exp <= time;
      case SectionsChosen.GeqExpirationTime:
        return exp >= time;
      case SectionsChosen.Corrupted:
        return false;
      case SectionsChosen.Any:
        return true;
      default:
        return undefined;
    }
  };
  if (pick(0) === undefined) return undefined;
  return [...c.sections.entries()]
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .filter(([, s]) => pick(s.expiration))
    .map(([, s]) => ({
      sectionId: s.id.slice(),
      expirationTime: s.expiration,
      sectionSize: s.data.length,
      sectionState: 1 as const,
      lastUpdate: s.lastUpdate,
    }));
}
