/**
 * SyncEngine: runs one synchronization round per regular configuration over its own pg
 * group, and walks every registered SyncParticipant through it (corosync sync v2 shape).
 *
 * A round: every member multicasts its service list; once all lists are in, the round walks
 * their sorted union (a node without one of the services only sends that service's barrier,
 * so nodes with different service sets still walk one list). Per service: syncInit, then
 * syncProcess at each of this node's token visits until it says 'done', then a barrier; when
 * the barriers of every member are in, the next service starts. After the last service every
 * participant is activated in order: activate is the only commit point. Any configuration
 * change while a round runs aborts it (syncAbort on every participant) and clears all round
 * state; sync messages of any other ring are dropped and recorded.
 *
 * Sans-IO: it acts only inside pg's callbacks and `tokenVisit()`, which the driver must call
 * when this node holds the token, before pg's own tokenVisit (see `syncOrderedListener`).
 */

import type { Configuration, NodeId, OrderedListener, RingId } from '../core/io.js';
import { Guarantee } from '../core/io.js';
import type { SyncParticipant, SyncRound } from '../core/sync-participant.js';
import type { ProcessGroups } from '../pg/process-groups.js';
import { EV } from '../recorder/events/index.js';
import type { Recorder } from '../recorder/recorder.js';
import { DecodeError } from '../wire/decode-error.js';
import { assert } from './assert.js';
import { decodeSyncMessage, encodeSyncMessage, type SyncMessage, SyncMsgType, sameRing } from './wire.js';

export const DEFAULT_SYNC_GROUP = 'sync';

export interface SyncEngineOptions {
  readonly pg: ProcessGroups;
  readonly recorder: Recorder;
  readonly nodeId: NodeId;
  /** The pg group the engine's own messages travel in (default "sync"). */
  readonly group?: string;
}

/** How a round ended, as told to `onRoundEnd` listeners. */
export type RoundOutcome = 'completed' | 'aborted' | 'failed';

/** What services see of the engine: gate client requests on `inProgress`, report broken sync data. */
export interface SyncStatus {
  /** True from a regular configuration until its round completes or is aborted. */
  readonly inProgress: boolean;
  /**
   * A service found the round's data broken (a protocol error every member sees the same way,
   * because every member delivers the same messages). Aborts the round on this node: syncAbort
   * on every participant; nothing is activated; the next configuration change starts afresh.
   */
  abortRound(service: string, reason: string): void;
}

export interface SyncEngineStats {
  roundsStarted: number;
  roundsCompleted: number;
  roundsAborted: number;
  roundsFailed: number;
  staleDropped: number;
  badMessages: number;
  unexpected: number;
}

const Phase = { Idle: 0, Build: 1, Service: 2 } as const;
type Phase = (typeof Phase)[keyof typeof Phase];
const Cause = { ConfigurationChange: 0, ProtocolError: 1 } as const;

interface Round {
  readonly info: SyncRound;
  phase: Phase;
  /** Senders whose service list arrived (Build phase). */
  readonly listsFrom: Set<NodeId>;
  readonly names: Set<string>;
  /** The agreed, sorted service list (Service phase). */
  services: string[];
  index: number;
  participant: SyncParticipant | undefined;
  barriers: Set<NodeId>;
  processDone: boolean;
  /** Encoded message refused by the send queue, retried at each token visit. */
  unsent: { type: SyncMsgType; bytes: Uint8Array } | undefined;
}

export class SyncEngine implements SyncStatus {
  readonly nodeId: NodeId;
  readonly group: string;
  private readonly pg: ProcessGroups;
  private readonly recorder: Recorder;
  private readonly participants = new Map<string, SyncParticipant>();
  private readonly endListeners: ((outcome: RoundOutcome, ringId: RingId) => void)[] = [];
  private round: Round | undefined;
  private transitional: readonly NodeId[] = [];
  private readonly stringIds = new Map<string, number>();
  private readonly counters: SyncEngineStats = {
    roundsStarted: 0,
    roundsCompleted: 0,
    roundsAborted: 0,
    roundsFailed: 0,
    staleDropped: 0,
    badMessages: 0,
    unexpected: 0,
  };

  constructor(opts: SyncEngineOptions) {
    this.pg = opts.pg;
    this.recorder = opts.recorder;
    this.nodeId = opts.nodeId;
    this.group = opts.group ?? DEFAULT_SYNC_GROUP;
    this.pg.join(this.group, {
      deliver: (_group, sender, message) => this.deliver(sender, message),
      configurationChange: (conf) => this.configurationChange(conf),
    });
  }

  /** Adds a service; rounds visit services in ascending serviceName order. Only between rounds. */
  register(participant: SyncParticipant): void {
    assert(this.round === undefined, 'services are registered between rounds');
    assert(!this.participants.has(participant.serviceName), `service ${participant.serviceName} twice`);
    this.participants.set(participant.serviceName, participant);
  }

  get inProgress(): boolean {
    return this.round !== undefined;
  }

  /** The running round (ring id, members, transitional members), if any. */
  get currentRound(): SyncRound | undefined {
    return this.round?.info;
  }

  /** The service the running round is at, if past the service-list phase. */
  get currentService(): string | undefined {
    const r = this.round;
    return r && r.phase === Phase.Service ? r.services[r.index] : undefined;
  }

  /**
   * Where the running round is: `lists` (waiting for every member's service list), `process`
   * (the current service sends its sync data), `barrier` (this node is done with the current
   * service and waits for the others' barriers); undefined between rounds.
   */
  get step(): 'lists' | 'process' | 'barrier' | undefined {
    const r = this.round;
    if (!r) return undefined;
    if (r.phase !== Phase.Service) return 'lists';
    return r.processDone ? 'barrier' : 'process';
  }

  get stats(): Readonly<SyncEngineStats> {
    return { ...this.counters };
  }

  /** Called after each round ends (services use it to answer requests queued during sync). */
  onRoundEnd(listener: (outcome: RoundOutcome, ringId: RingId) => void): void {
    this.endListeners.push(listener);
  }

  /** This node holds the token. Call before pg's tokenVisit so what is sent here leaves now. */
  tokenVisit(): void {
    const r = this.round;
    if (!r) return;
    if (r.unsent && !this.trySend(r, r.unsent.type, r.unsent.bytes)) return;
    if (r.phase !== Phase.Service || r.processDone || !r.participant) return;
    const progress = r.participant.syncProcess();
    // The service may have failed the round from inside syncProcess.
    if (this.round !== r) return;
    this.recorder.rec(EV.SYNC_PROCESS, r.index, progress === 'more' ? 1 : 0);
    if (progress === 'done') this.finishProcess(r);
  }

  abortRound(service: string, reason: string): void {
    const r = this.round;
    if (!r) return;
    this.abort(r, Cause.ProtocolError);
    this.recorder.rec(
      EV.SYNC_ROUND_FAILED,
      r.info.ringId.rep,
      r.info.ringId.seq,
      this.stringId(service),
      this.recorder.intern(reason.slice(0, 200)),
    );
    this.counters.roundsFailed++;
    this.notify('failed', r.info.ringId);
  }

  // ---- pg callbacks ------------------------------------------------------------------------

  private configurationChange(conf: Configuration): void {
    const running = this.round;
    if (running) {
      this.abort(running, Cause.ConfigurationChange);
      this.counters.roundsAborted++;
      this.notify('aborted', running.info.ringId);
    }
    if (conf.kind === 'transitional') {
      this.transitional = [...conf.members];
      return;
    }
    this.start(conf);
  }

  private deliver(sender: NodeId, bytes: Uint8Array): void {
    let m: SyncMessage;
    try {
      m = decodeSyncMessage(bytes);
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
      this.counters.badMessages++;
      this.recorder.rec(EV.SYNC_BAD_MESSAGE, sender, bytes.length, e.offset);
      return;
    }
    const r = this.round;
    if (!r || !sameRing(r.info.ringId, m.ringId)) {
      this.counters.staleDropped++;
      this.recorder.rec(EV.SYNC_STALE_DROPPED, sender, m.type, m.ringId.rep, m.ringId.seq);
      return;
    }
    if (!r.info.members.includes(sender)) {
      this.unexpected(r, sender, m.type);
      return;
    }
    if (m.type === SyncMsgType.ServiceList) this.serviceList(r, sender, m.services);
    else this.barrier(r, sender, m.index, m.service);
  }

  // ---- round steps -------------------------------------------------------------------------

  private start(conf: Configuration): void {
    const info: SyncRound = {
      ringId: conf.ringId,
      members: [...conf.members],
      transitional: this.transitional.filter((n) => conf.members.includes(n)),
    };
    this.transitional = [];
    const r: Round = {
      info,
      phase: Phase.Build,
      listsFrom: new Set(),
      names: new Set(),
      services: [],
      index: 0,
      participant: undefined,
      barriers: new Set(),
      processDone: false,
      unsent: undefined,
    };
    this.round = r;
    this.counters.roundsStarted++;
    this.recorder.rec(
      EV.SYNC_ROUND_START,
      info.ringId.rep,
      info.ringId.seq,
      info.members.length,
      info.transitional.length,
    );
    const mine = [...this.participants.keys()].sort();
    this.recorder.rec(EV.SYNC_SERVICE_LIST_TX, info.ringId.seq, mine.length);
    this.send(r, { type: SyncMsgType.ServiceList, ringId: info.ringId, services: mine });
  }

  private serviceList(r: Round, sender: NodeId, services: readonly string[]): void {
    if (r.phase !== Phase.Build || r.listsFrom.has(sender)) {
      this.unexpected(r, sender, SyncMsgType.ServiceList);
      return;
    }
    r.listsFrom.add(sender);
    for (const s of services) r.names.add(s);
    if (r.listsFrom.size < r.info.members.length) return;
    r.services = [...r.names].sort();
    r.phase = Phase.Service;
    const local = r.services.filter((s) => this.participants.has(s)).length;
    this.recorder.rec(EV.SYNC_SERVICES_AGREED, r.info.ringId.seq, r.services.length, local);
    if (r.services.length === 0) this.complete(r);
    else this.enterService(r, 0);
  }

  private enterService(r: Round, index: number): void {
    r.index = index;
    r.barriers = new Set();
    const name = r.services[index]!;
    r.participant = this.participants.get(name);
    r.processDone = false;
    this.recorder.rec(
      EV.SYNC_SERVICE_INIT,
      r.info.ringId.seq,
      index,
      this.stringId(name),
      r.participant ? 1 : 0,
    );
    if (r.participant) {
      r.participant.syncInit(r.info);
      // syncProcess runs at the next token visit; a service may fail the round in syncInit.
    } else {
      this.finishProcess(r);
    }
  }

  private finishProcess(r: Round): void {
    if (this.round !== r) return;
    r.processDone = true;
    this.recorder.rec(EV.SYNC_BARRIER_TX, r.info.ringId.seq, r.index);
    this.send(r, {
      type: SyncMsgType.Barrier,
      ringId: r.info.ringId,
      index: r.index,
      service: r.services[r.index]!,
    });
  }

  private barrier(r: Round, sender: NodeId, index: number, service: string): void {
    if (r.phase !== Phase.Service || index !== r.index || service !== r.services[index]) {
      this.unexpected(r, sender, SyncMsgType.Barrier, index);
      return;
    }
    if (r.barriers.has(sender)) {
      this.unexpected(r, sender, SyncMsgType.Barrier, index);
      return;
    }
    r.barriers.add(sender);
    this.recorder.rec(EV.SYNC_BARRIER_RX, sender, r.info.ringId.seq, index, r.barriers.size);
    if (r.barriers.size < r.info.members.length) return;
    // A member sends its barrier only after its own syncProcess finished, and our own barrier is
    // among those counted, so every member (this one included) is done with this service.
    assert(r.processDone, 'all barriers in before this node finished processing');
    if (index + 1 < r.services.length) this.enterService(r, index + 1);
    else this.complete(r);
  }

  private complete(r: Round): void {
    // Cleared first: a service's activate may look at inProgress (and must see false).
    this.round = undefined;
    r.services.forEach((name, index) => {
      const p = this.participants.get(name);
      if (!p) return;
      this.recorder.rec(EV.SYNC_ACTIVATE, r.info.ringId.seq, index, this.stringId(name));
      p.syncActivate();
    });
    this.counters.roundsCompleted++;
    this.recorder.rec(EV.SYNC_ROUND_DONE, r.info.ringId.rep, r.info.ringId.seq, r.services.length);
    this.notify('completed', r.info.ringId);
  }

  private abort(r: Round, cause: number): void {
    this.round = undefined;
    this.recorder.rec(EV.SYNC_ROUND_ABORT, r.info.ringId.rep, r.info.ringId.seq, r.phase, cause);
    // Every participant, not only the current one: none of them has been activated yet, and
    // any may hold state from this round (later ones at least from a previous attempt).
    for (const name of [...this.participants.keys()].sort()) this.participants.get(name)!.syncAbort();
  }

  private notify(outcome: RoundOutcome, ringId: RingId): void {
    for (const l of [...this.endListeners]) l(outcome, ringId);
  }

  private unexpected(r: Round, sender: NodeId, type: number, index = 0): void {
    this.counters.unexpected++;
    this.recorder.rec(EV.SYNC_UNEXPECTED, sender, type, index, r.phase);
  }

  private send(r: Round, m: SyncMessage): void {
    assert(r.unsent === undefined, 'a sync message is already waiting for the send queue');
    this.trySend(r, m.type, encodeSyncMessage(m));
  }

  private trySend(r: Round, type: SyncMsgType, bytes: Uint8Array): boolean {
    const result = this.pg.send(this.group, bytes, Guarantee.Agreed);
    if (result.kind === 'ok') {
      r.unsent = undefined;
      return true;
    }
    assert(result.kind === 'try-again', `a sync message of ${bytes.length} bytes is too large`);
    r.unsent = { type, bytes };
    this.recorder.rec(EV.SYNC_SEND_DEFERRED, type, result.framesNeeded, result.room);
    return false;
  }

  private stringId(name: string): number {
    let id = this.stringIds.get(name);
    if (id === undefined) {
      id = this.recorder.intern(name);
      this.stringIds.set(name, id);
    }
    return id;
  }
}

/**
 * The OrderedListener a driver attaches to the ordering layer when sync runs over pg: pg gets
 * every callback, and at a token visit the engine acts first so its messages (and the services'
 * sync messages) leave in this very visit.
 */
export function syncOrderedListener(pg: ProcessGroups, engine: SyncEngine): OrderedListener {
  return {
    deliver: (sender, payload, guarantee, ringId, seq) => pg.deliver(sender, payload, guarantee, ringId, seq),
    configurationChange: (conf) => pg.configurationChange(conf),
    tokenVisit: () => {
      engine.tokenVisit();
      pg.tokenVisit();
    },
  };
}
