/**
 * The closed-process-group service, sans-IO. Local clients join named groups, multicast to
 * them, and see every member's messages and membership changes in one agreed order.
 *
 * Membership travels as ordered messages through the pg group "cpg" (PROCJOIN, PROCLEAVE,
 * MCAST). Across a configuration change it is rebuilt through the sync round, as corosync 3
 * does: every node multicasts a JOINLIST of its local processes (carrying the round's ring id);
 * at activate every node replaces its view of the members' processes with the union of the
 * round's joinlists, so all nodes end the round with the same member lists whatever they saw
 * before. An aborted round changes nothing.
 *
 * Per client and group: UNJOINED → join → JOIN_STARTED → own PROCJOIN delivered →
 * JOIN_COMPLETED → leave → LEAVE_STARTED → own PROCLEAVE delivered → UNJOINED. A client gets
 * messages and changes only in JOIN_COMPLETED or LEAVE_STARTED, so a joiner never sees a
 * message ordered before its own join.
 */
import { Guarantee, type NodeId, type RingId } from '../../core/io.js';
import type { SyncParticipant, SyncProgress, SyncRound } from '../../core/sync-participant.js';
import { ErrorCode } from '../../ipc/errors.js';
import type { Membership, ProcessGroups } from '../../pg/index.js';
import { EV } from '../../recorder/events/index.js';
import type { Recorder } from '../../recorder/recorder.js';
import { DECODE_ERROR_CODES, DecodeError } from '../../wire/decode-error.js';
import {
  decodeExecMessage,
  type ExecMessage,
  encodeJoinList,
  encodeMcastHeader,
  encodeProcMessage,
  type JoinListEntry,
} from './exec-messages.js';
import { CPG_PG_GROUP, MAX_CPG_GROUP_BYTES, Reason } from './limits.js';

export interface CpgMember {
  readonly nodeId: NodeId;
  readonly pid: number;
  readonly reason: Reason;
}

/** Where the service sends one client's events (the IPC binding encodes them). */
export interface CpgEventSink {
  deliver(group: Uint8Array, nodeId: NodeId, pid: number, guarantee: Guarantee, data: Uint8Array): void;
  confchg(
    group: Uint8Array,
    members: readonly CpgMember[],
    left: readonly CpgMember[],
    joined: readonly CpgMember[],
  ): void;
  totemConfchg(ringId: RingId, members: readonly NodeId[]): void;
}

export interface CpgClientInfo {
  /** Unique among this node's live clients (the IPC connection id). */
  readonly id: number;
  readonly pid: number;
  readonly sink: CpgEventSink;
}

export interface CpgServiceOptions {
  readonly pg: ProcessGroups;
  readonly recorder: Recorder;
  readonly nodeId: NodeId;
}

export interface CpgGroupInfo {
  readonly group: Uint8Array;
  readonly members: readonly CpgMember[];
}

const JoinState = { JoinStarted: 1, JoinCompleted: 2, LeaveStarted: 3 } as const;
type JoinState = (typeof JoinState)[keyof typeof JoinState];

interface ClientGroup {
  readonly name: Uint8Array;
  state: JoinState;
}

interface Client {
  readonly info: CpgClientInfo;
  readonly groups: Map<string, ClientGroup>;
}

interface Proc {
  readonly nodeId: NodeId;
  readonly pid: number;
}

interface Group {
  readonly name: Uint8Array;
  /** Sorted by (nodeId, pid): every node then produces identical lists. */
  readonly procs: Proc[];
}

interface Round {
  readonly round: SyncRound;
  readonly down: ReadonlySet<NodeId>;
  readonly joinlists: Map<NodeId, readonly JoinListEntry[]>;
  /** Every member's downlist (this node's included once its own message is delivered). */
  readonly downlists: Map<NodeId, readonly NodeId[]>;
  sent: boolean;
}

/** An internal message waiting for room in the send queue or for the end of a sync round. */
interface Deferred {
  readonly pid: number;
  readonly conn: number;
  readonly group: Uint8Array;
}

const MEMBER_REASON_UNDEFINED = Reason.Undefined;

export class CpgService implements SyncParticipant {
  readonly serviceName = 'cpg';
  readonly nodeId: NodeId;
  private readonly pg: ProcessGroups;
  private readonly recorder: Recorder;
  private readonly clients = new Map<number, Client>();
  private readonly groupsByKey = new Map<string, Group>();
  private readonly deferred: Deferred[] = [];
  private readonly groupIds = new Map<string, number>();
  private round: Round | undefined;
  /** True from this service's init in a round to its activate or abort. */
  private syncing = false;
  private previousMembers: readonly NodeId[] = [];
  private totem: { ringId: RingId; members: readonly NodeId[] } | undefined;
  private readonly membership: Membership;
  private pumpListener: (() => void) | undefined;

  constructor(opts: CpgServiceOptions) {
    this.pg = opts.pg;
    this.recorder = opts.recorder;
    this.nodeId = opts.nodeId;
    this.membership = this.pg.join(CPG_PG_GROUP, {
      deliver: (_group, sender, message, guarantee) => this.execDeliver(sender, message, guarantee),
    });
  }

  /** Stops listening to the pg group (the service is being torn down). */
  dispose(): void {
    this.membership.leave();
  }

  // ---- clients ----------------------------------------------------------------------------

  connect(info: CpgClientInfo): void {
    if (this.clients.has(info.id)) throw new Error(`cpg client ${info.id} is connected twice`);
    this.clients.set(info.id, { info, groups: new Map() });
  }

  /**
   * The client is gone: every group it joined (or is joining) gets a leave with reason
   * PROCDOWN. If the send queue is full, or a sync round is running, the leave waits and goes
   * out at the next pump(); a sync round in between drops the process anyway (it is not in
   * this node's joinlist).
   */
  disconnect(clientId: number): void {
    const client = this.clients.get(clientId);
    if (!client) return;
    this.clients.delete(clientId);
    for (const g of client.groups.values()) {
      if (g.state === JoinState.LeaveStarted) continue;
      this.deferred.push({ pid: client.info.pid, conn: clientId, group: g.name });
    }
    this.pump();
  }

  join(clientId: number, group: Uint8Array): ErrorCode {
    const result = this.tryJoin(clientId, group);
    this.recorder.rec(
      EV.CPG_JOIN_REQ,
      clientId,
      this.client(clientId)?.info.pid ?? 0,
      this.groupId(group),
      result,
    );
    return result;
  }

  leave(clientId: number, group: Uint8Array): ErrorCode {
    const result = this.tryLeave(clientId, group);
    this.recorder.rec(
      EV.CPG_LEAVE_REQ,
      clientId,
      this.client(clientId)?.info.pid ?? 0,
      this.groupId(group),
      result,
    );
    return result;
  }

  mcast(
    clientId: number,
    group: Uint8Array,
    data: Uint8Array,
    guarantee: Guarantee = Guarantee.Agreed,
  ): ErrorCode {
    const result = this.tryMcast(clientId, group, data, guarantee);
    this.recorder.rec(EV.CPG_MCAST_REQ, clientId, this.groupId(group), data.length, result);
    return result;
  }

  /** The group's members, sorted by (nodeId, pid); empty when nobody is in it. */
  members(group: Uint8Array): CpgMember[] {
    const g = this.groupsByKey.get(keyOf(group));
    return g ? g.procs.map(asMember) : [];
  }

  /** Every group with at least one member, sorted by name (bytewise). */
  groups(): CpgGroupInfo[] {
    return [...this.groupsByKey.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, g]) => ({ group: g.name, members: g.procs.map(asMember) }));
  }

  /** The last configuration a sync round committed (undefined before the first). */
  get totemConfiguration(): { readonly ringId: RingId; readonly members: readonly NodeId[] } | undefined {
    return this.totem;
  }

  /** The largest message a client may multicast. */
  get maxMessageSize(): number {
    return this.pg.maxMessageSize - (10 + MAX_CPG_GROUP_BYTES);
  }

  /** Internal messages still waiting to be sent. */
  get deferredCount(): number {
    return this.deferred.length;
  }

  /** Whether client requests are refused with TRY_AGAIN because a sync round runs. */
  get syncInProgress(): boolean {
    return this.syncing;
  }

  /**
   * Sends deferred internal messages. The service calls it itself after each delivery and at
   * the end of a sync round; a driver may also call it after token visits.
   */
  pump(): void {
    this.pumpDeferred();
    this.pumpListener?.();
  }

  /**
   * Called at the end of every pump() (in the daemon: every token visit, when the send queue
   * has moved). The IPC binding retries there the client sends it holds for want of room.
   */
  onPump(listener: (() => void) | undefined): void {
    this.pumpListener = listener;
  }

  private pumpDeferred(): void {
    if (this.syncing) {
      if (this.deferred.length > 0) this.recorder.rec(EV.CPG_SEND_DEFERRED, 1, this.deferred.length);
      return;
    }
    let sent = 0;
    while (sent < this.deferred.length) {
      const d = this.deferred[sent]!;
      const bytes = encodeProcMessage('procleave', d.pid, d.conn, Reason.ProcDown, d.group);
      if (this.pg.send(CPG_PG_GROUP, bytes, Guarantee.Agreed).kind !== 'ok') break;
      sent++;
    }
    this.deferred.splice(0, sent);
    if (this.deferred.length > 0) this.recorder.rec(EV.CPG_SEND_DEFERRED, 0, this.deferred.length);
  }

  // ---- sync (SyncParticipant) -----------------------------------------------------------------

  syncInit(round: SyncRound): void {
    const transitional = new Set(round.transitional);
    const down = new Set(this.previousMembers.filter((n) => !transitional.has(n)));
    this.round = { round, down, joinlists: new Map(), downlists: new Map(), sent: false };
    this.syncing = true;
    this.recorder.rec(EV.CPG_SYNC_INIT, round.ringId.rep, round.ringId.seq, round.members.length, down.size);
  }

  syncProcess(): SyncProgress {
    const r = this.round;
    if (!r) throw new Error('cpg: syncProcess outside a sync round');
    if (r.sent) return 'done';
    const entries = this.localJoinList();
    const bytes = encodeJoinList(
      r.round.ringId,
      [...r.down].sort((a, b) => a - b),
      entries,
    );
    const result = this.pg.send(CPG_PG_GROUP, bytes, Guarantee.Agreed);
    if (result.kind === 'try-again') return 'more';
    if (result.kind === 'too-large') {
      throw new Error(
        `cpg: joinlist of ${entries.length} processes (${bytes.length} bytes) exceeds pg's ${result.max}`,
      );
    }
    r.sent = true;
    this.recorder.rec(EV.CPG_JOINLIST_TX, r.round.ringId.rep, r.round.ringId.seq, entries.length);
    return 'done';
  }

  syncActivate(): void {
    const r = this.round;
    if (!r) throw new Error('cpg: syncActivate outside a sync round');
    const members = new Set(r.round.members);
    const changes = new Map<string, { left: CpgMember[]; joined: CpgMember[] }>();
    const change = (key: string) => {
      let c = changes.get(key);
      if (!c) changes.set(key, (c = { left: [], joined: [] }));
      return c;
    };
    // What every member announced: the truth for members' processes after this round.
    const announced = new Map<string, Map<string, boolean>>();
    for (const node of r.round.members) {
      for (const e of r.joinlists.get(node) ?? []) {
        const key = keyOf(e.group);
        let procs = announced.get(key);
        if (!procs) announced.set(key, (procs = new Map()));
        procs.set(procKey(node, e.pid), e.leaving);
      }
    }
    // Any member saw it go down: every node treats it as down (and back, if it is a member),
    // so every node reports the same reasons.
    const down = new Set(r.down);
    for (const node of r.round.members) for (const d of r.downlists.get(node) ?? []) down.add(d);
    down.delete(this.nodeId); // this node's own processes never went down under it
    // 1. processes of nodes that went down (or are no longer members)
    for (const [key, g] of this.groupsByKey) {
      for (const p of [...g.procs]) {
        if (members.has(p.nodeId) && !down.has(p.nodeId)) continue;
        this.removeProc(g, p, Reason.NodeDown);
        change(key).left.push({ ...p, reason: Reason.NodeDown });
      }
    }
    // 2. processes announced that this node did not know
    for (const node of r.round.members) {
      for (const e of r.joinlists.get(node) ?? []) {
        if (e.leaving) continue;
        const key = keyOf(e.group);
        const g = this.groupsByKey.get(key) ?? this.newGroup(key, e.group);
        const p = { nodeId: node, pid: e.pid };
        if (!hasProc(g, p)) {
          const reason = node === this.nodeId ? Reason.Join : Reason.NodeUp;
          this.addProc(g, p, reason);
          change(key).joined.push({ ...p, reason });
        }
      }
    }
    // 3. members' processes nobody announced: left while partitioned, or died mid-round
    for (const [key, g] of this.groupsByKey) {
      const procs = announced.get(key);
      for (const p of [...g.procs]) {
        const leaving = procs?.get(procKey(p.nodeId, p.pid));
        if (leaving === false) continue;
        const reason = leaving === true ? Reason.Leave : Reason.ProcDown;
        this.removeProc(g, p, reason);
        change(key).left.push({ ...p, reason });
      }
    }
    // Local joins that the round made members complete now; they see this change.
    for (const client of this.clients.values()) {
      for (const [key, cg] of client.groups) {
        if (cg.state !== JoinState.JoinStarted) continue;
        const g = this.groupsByKey.get(key);
        if (g && hasProc(g, { nodeId: this.nodeId, pid: client.info.pid }))
          cg.state = JoinState.JoinCompleted;
      }
    }
    for (const [key, c] of changes) {
      const g = this.groupsByKey.get(key);
      if (!g) throw new Error('cpg: a changed group vanished during activate');
      this.confchg(key, g.name, c.left, c.joined);
      if (g.procs.length === 0) this.groupsByKey.delete(key);
    }
    this.previousMembers = r.round.members;
    this.totem = { ringId: r.round.ringId, members: r.round.members };
    this.recorder.rec(
      EV.CPG_SYNC_ACTIVATE,
      r.round.ringId.rep,
      r.round.ringId.seq,
      this.processCount(),
      this.groupsByKey.size,
    );
    for (const client of [...this.clients.values()])
      client.info.sink.totemConfchg(r.round.ringId, r.round.members);
    this.round = undefined;
    this.syncing = false;
    this.pump();
  }

  syncAbort(): void {
    const r = this.round;
    this.recorder.rec(EV.CPG_SYNC_ABORT, r?.round.ringId.rep ?? 0, r?.round.ringId.seq ?? 0);
    this.round = undefined;
    // Requests flow again: a round that failed may have no successor, and what a client does
    // before the next round reaches this service is carried by that round's joinlists.
    this.syncing = false;
    this.pump();
  }

  // ---- requests ----------------------------------------------------------------------------

  private tryJoin(clientId: number, group: Uint8Array): ErrorCode {
    const client = this.clients.get(clientId);
    if (!client) return ErrorCode.BAD_HANDLE;
    const bad = checkName(group);
    if (bad !== ErrorCode.OK) return bad;
    const key = keyOf(group);
    const mine = client.groups.get(key);
    if (mine) return mine.state === JoinState.LeaveStarted ? ErrorCode.BUSY : ErrorCode.EXIST;
    const pid = client.info.pid;
    for (const other of this.clients.values()) {
      const og = other.groups.get(key);
      if (other.info.pid !== pid || !og) continue;
      // The same process may be in a group once; its undelivered leave must land first.
      return og.state === JoinState.LeaveStarted ? ErrorCode.TRY_AGAIN : ErrorCode.EXIST;
    }
    if (this.syncing) return ErrorCode.TRY_AGAIN;
    const g = this.groupsByKey.get(key);
    if (g && hasProc(g, { nodeId: this.nodeId, pid })) return ErrorCode.TRY_AGAIN;
    if (this.deferred.some((d) => d.pid === pid && keyOf(d.group) === key)) return ErrorCode.TRY_AGAIN;
    const bytes = encodeProcMessage('procjoin', pid, clientId, Reason.Join, group);
    if (this.pg.send(CPG_PG_GROUP, bytes, Guarantee.Agreed).kind !== 'ok') return ErrorCode.TRY_AGAIN;
    client.groups.set(key, { name: group.slice(), state: JoinState.JoinStarted });
    return ErrorCode.OK;
  }

  private tryLeave(clientId: number, group: Uint8Array): ErrorCode {
    const client = this.clients.get(clientId);
    if (!client) return ErrorCode.BAD_HANDLE;
    const bad = checkName(group);
    if (bad !== ErrorCode.OK) return bad;
    const mine = client.groups.get(keyOf(group));
    if (!mine || mine.state === JoinState.LeaveStarted) return ErrorCode.NOT_EXIST;
    if (mine.state === JoinState.JoinStarted) return ErrorCode.BUSY;
    if (this.syncing) return ErrorCode.TRY_AGAIN;
    const bytes = encodeProcMessage('procleave', client.info.pid, clientId, Reason.Leave, group);
    if (this.pg.send(CPG_PG_GROUP, bytes, Guarantee.Agreed).kind !== 'ok') return ErrorCode.TRY_AGAIN;
    mine.state = JoinState.LeaveStarted;
    return ErrorCode.OK;
  }

  private tryMcast(clientId: number, group: Uint8Array, data: Uint8Array, guarantee: Guarantee): ErrorCode {
    const client = this.clients.get(clientId);
    if (!client) return ErrorCode.BAD_HANDLE;
    const bad = checkName(group);
    if (bad !== ErrorCode.OK) return bad;
    if (guarantee !== Guarantee.Agreed && guarantee !== Guarantee.Safe) return ErrorCode.INVALID_PARAM;
    const mine = client.groups.get(keyOf(group));
    if (!mine || mine.state === JoinState.LeaveStarted) return ErrorCode.NOT_EXIST;
    if (data.length > this.maxMessageSize) return ErrorCode.TOO_BIG;
    if (this.syncing) return ErrorCode.TRY_AGAIN;
    const header = encodeMcastHeader(client.info.pid, clientId, group);
    const result = this.pg.send(CPG_PG_GROUP, [header, data], guarantee);
    if (result.kind === 'try-again') return ErrorCode.TRY_AGAIN;
    if (result.kind === 'too-large') return ErrorCode.TOO_BIG;
    return ErrorCode.OK;
  }

  // ---- ordered delivery --------------------------------------------------------------------

  private execDeliver(sender: NodeId, bytes: Uint8Array, guarantee: Guarantee): void {
    let msg: ExecMessage;
    try {
      msg = decodeExecMessage(bytes);
    } catch (err) {
      if (!(err instanceof DecodeError)) throw err;
      this.recorder.rec(
        EV.CPG_MSG_BAD,
        sender,
        DECODE_ERROR_CODES.indexOf(err.code),
        err.offset,
        bytes.length,
      );
      return;
    }
    switch (msg.kind) {
      case 'procjoin':
        this.procJoin(sender, msg.pid, msg.conn, msg.group);
        break;
      case 'procleave':
        this.procLeave(sender, msg.pid, msg.conn, msg.reason, msg.group);
        break;
      case 'mcast':
        this.mcastDeliver(sender, msg.pid, msg.group, guarantee, msg.data);
        break;
      case 'joinlist':
        this.joinListDeliver(sender, msg.ringId, msg.down, msg.entries);
        break;
    }
    // A delivery means the send queue moved: a deferred leave may fit now.
    if (this.deferred.length > 0) this.pump();
  }

  private procJoin(sender: NodeId, pid: number, conn: number, group: Uint8Array): void {
    const key = keyOf(group);
    if (sender === this.nodeId) {
      const cg = this.clients.get(conn)?.groups.get(key);
      if (cg?.state === JoinState.JoinStarted) cg.state = JoinState.JoinCompleted;
    }
    const g = this.groupsByKey.get(key) ?? this.newGroup(key, group);
    const p = { nodeId: sender, pid };
    // Already a member: a sync round added it before its own join was delivered.
    if (hasProc(g, p)) return;
    this.addProc(g, p, Reason.Join);
    this.confchg(key, g.name, [], [{ ...p, reason: Reason.Join }]);
  }

  private procLeave(sender: NodeId, pid: number, conn: number, reason: number, group: Uint8Array): void {
    const key = keyOf(group);
    const why = reason === Reason.ProcDown ? Reason.ProcDown : Reason.Leave;
    const g = this.groupsByKey.get(key);
    const p = { nodeId: sender, pid };
    if (g && hasProc(g, p)) {
      this.removeProc(g, p, why);
      this.confchg(key, g.name, [{ ...p, reason: why }], []);
      if (g.procs.length === 0) this.groupsByKey.delete(key);
    }
    if (sender === this.nodeId) {
      const client = this.clients.get(conn);
      const cg = client?.groups.get(key);
      if (cg?.state === JoinState.LeaveStarted) client!.groups.delete(key);
    }
  }

  private mcastDeliver(
    sender: NodeId,
    pid: number,
    group: Uint8Array,
    guarantee: Guarantee,
    data: Uint8Array,
  ): void {
    const key = keyOf(group);
    const g = this.groupsByKey.get(key);
    if (!g || !hasProc(g, { nodeId: sender, pid })) {
      this.recorder.rec(EV.CPG_UNKNOWN_SENDER, sender, pid, this.groupId(group), 0);
      return;
    }
    this.recorder.rec(EV.CPG_DELIVER, sender, pid, this.groupId(group), data.length);
    for (const client of this.receivers(key)) client.info.sink.deliver(g.name, sender, pid, guarantee, data);
  }

  private joinListDeliver(
    sender: NodeId,
    ringId: RingId,
    down: readonly NodeId[],
    entries: readonly JoinListEntry[],
  ): void {
    const r = this.round;
    if (!r || r.round.ringId.rep !== ringId.rep || r.round.ringId.seq !== ringId.seq) {
      this.recorder.rec(EV.CPG_JOINLIST_STALE, sender, ringId.rep, ringId.seq);
      return;
    }
    r.downlists.set(sender, [...down]);
    r.joinlists.set(
      sender,
      entries.map((e) => ({ ...e, group: e.group.slice() })),
    );
    this.recorder.rec(EV.CPG_JOINLIST_RX, sender, ringId.rep, ringId.seq, entries.length);
  }

  // ---- helpers -----------------------------------------------------------------------------

  private localJoinList(): JoinListEntry[] {
    const entries: JoinListEntry[] = [];
    for (const client of this.clients.values()) {
      for (const cg of client.groups.values()) {
        entries.push({ pid: client.info.pid, group: cg.name, leaving: cg.state === JoinState.LeaveStarted });
      }
    }
    entries.sort((a, b) => a.pid - b.pid || compareBytes(a.group, b.group));
    return entries;
  }

  /** Local clients that see a group's traffic now. */
  private receivers(key: string): Client[] {
    const out: Client[] = [];
    for (const client of this.clients.values()) {
      const state = client.groups.get(key)?.state;
      if (state === JoinState.JoinCompleted || state === JoinState.LeaveStarted) out.push(client);
    }
    return out;
  }

  private confchg(key: string, name: Uint8Array, left: CpgMember[], joined: CpgMember[]): void {
    const g = this.groupsByKey.get(key);
    const members = g ? g.procs.map(asMember) : [];
    left.sort(byProc);
    joined.sort(byProc);
    this.recorder.rec(EV.CPG_CONFCHG, this.groupId(name), members.length, left.length, joined.length);
    for (const client of this.receivers(key)) client.info.sink.confchg(name, members, left, joined);
  }

  private newGroup(key: string, name: Uint8Array): Group {
    const g: Group = { name: name.slice(), procs: [] };
    this.groupsByKey.set(key, g);
    return g;
  }

  private addProc(g: Group, p: Proc, reason: Reason): void {
    let at = g.procs.length;
    while (at > 0 && byProc(g.procs[at - 1]!, p) > 0) at--;
    g.procs.splice(at, 0, { nodeId: p.nodeId, pid: p.pid });
    this.recorder.rec(EV.CPG_PROC_ADD, p.nodeId, p.pid, this.groupId(g.name), reason);
  }

  private removeProc(g: Group, p: Proc, reason: Reason): void {
    const at = g.procs.findIndex((q) => q.nodeId === p.nodeId && q.pid === p.pid);
    if (at < 0) return;
    g.procs.splice(at, 1);
    this.recorder.rec(EV.CPG_PROC_REMOVE, p.nodeId, p.pid, this.groupId(g.name), reason);
  }

  private processCount(): number {
    let n = 0;
    for (const g of this.groupsByKey.values()) n += g.procs.length;
    return n;
  }

  private client(id: number): Client | undefined {
    return this.clients.get(id);
  }

  private groupId(name: Uint8Array): number {
    const key = keyOf(name);
    let id = this.groupIds.get(key);
    if (id === undefined) {
      id = this.recorder.intern(new TextDecoder().decode(name));
      if (this.groupIds.size < 4096) this.groupIds.set(key, id);
    }
    return id;
  }
}

function checkName(group: Uint8Array): ErrorCode {
  if (group.length === 0) return ErrorCode.INVALID_PARAM;
  if (group.length > MAX_CPG_GROUP_BYTES) return ErrorCode.NAME_TOO_LONG;
  return ErrorCode.OK;
}

function keyOf(bytes: Uint8Array): string {
  let key = '';
  for (let i = 0; i < bytes.length; i++) key += String.fromCharCode(bytes[i]!);
  return key;
}

function procKey(nodeId: NodeId, pid: number): string {
  return `${nodeId}:${pid}`;
}

function hasProc(g: Group, p: Proc): boolean {
  return g.procs.some((q) => q.nodeId === p.nodeId && q.pid === p.pid);
}

function byProc(a: Proc, b: Proc): number {
  return a.nodeId - b.nodeId || a.pid - b.pid;
}

function asMember(p: Proc): CpgMember {
  return { nodeId: p.nodeId, pid: p.pid, reason: MEMBER_REASON_UNDEFINED };
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}
