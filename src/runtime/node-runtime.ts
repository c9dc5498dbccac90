/**
 * The real driver of one node: SrpNode and ProcessGroups bound to a UdpTransport, setTimeout
 * timers and performance.now(), the ring seq kept in the state dir, and a flight-recorder
 * ring in a mapped file.
 *
 * Every input (a datagram, a timer, a request) reads the clock once, stamps the recorder
 * with it and hands the same `now` to the core. A core that throws has broken an
 * invariant: the runtime records it, makes sure the ring is on disk and reports it as
 * fatal (the daemon exits); bad packets never get that far (decoders count and drop them).
 */
import { createHash, randomInt } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { TotemConfig } from '../config/types.js';
import { type Configuration, Guarantee, type Host, type NodeId } from '../core/io.js';
import { IpcServer, type IpcServerStats } from '../ipc/server.js';
import type { IpcService } from '../ipc/service.js';
import type { ProcessGroups } from '../pg/process-groups.js';
import { EV } from '../recorder/events/index.js';
import { installRecorderHooks, openProcessRing, type ProcessRing } from '../recorder/process-ring.js';
import type { Recorder } from '../recorder/recorder.js';
import type { CkptService, CkptServiceStats } from '../services/ckpt/index.js';
import { CkptIpcService } from '../services/ckpt/ipc-binding.js';
import type { CkptReply } from '../services/ckpt/types.js';
import type { CpgService } from '../services/cpg/cpg-service.js';
import { CpgIpcService } from '../services/cpg/ipc-binding.js';
import { PlockIpcService } from '../services/plock/ipc-binding.js';
import type { PlockService, PlockServiceStats } from '../services/plock/plock-service.js';
import { buildServiceStack } from '../services/stack.js';
import type { SrpNode, SrpState } from '../srp/srp-node.js';
import type { SyncEngine, SyncEngineStats } from '../sync/index.js';
import { envelopeFromConfig, transportOptionsFromConfig } from '../transport/from-config.js';
import { Partition } from '../transport/partition.js';
import { UdpTransport } from '../transport/udp-transport.js';
import { GuardedService } from './guarded-service.js';
import { LoadGroup, type LoadStatus } from './load-group.js';
import type { Logger } from './logger.js';
import { GUARD_REASONS, MembershipGuard } from './membership-guard.js';
import { type NodePaths, nodePaths } from './paths.js';
import { RingSeqStore } from './ring-seq-store.js';
import { srpConfigFromTotem } from './srp-config.js';
import { RealTimers } from './timers.js';

/** A checkpoint deadline already due but not acted on (another node expires, or sync runs): look again then. */
const CKPT_RECHECK_MS = 250;
/** setTimeout takes at most 2^31−1 ms; far deadlines are re-evaluated after this long. */
const CKPT_MAX_TIMER_MS = 3_600_000;

const STATE_INDEX: Record<SrpState, number> = { OPERATIONAL: 0, GATHER: 1, COMMIT: 2, RECOVERY: 3 };

export interface NodeRuntimeOptions {
  readonly config: TotemConfig;
  readonly nodeId: NodeId;
  readonly logger: Logger;
  /** Test-only: accept partition requests (the transport's packet filter). */
  readonly testPartition?: boolean;
  /** Flight-recorder slots (power of two); default the process-ring default. */
  readonly recorderSlots?: number;
  /** Called once when a core threw: the node cannot go on. */
  readonly onFatal: (err: unknown) => void;
}

export interface ConfigurationRecord {
  readonly kind: Configuration['kind'];
  readonly ringId: { rep: number; seq: number };
  readonly members: readonly NodeId[];
  readonly left: readonly NodeId[];
  readonly joined: readonly NodeId[];
  /** ms since the runtime started. */
  readonly atMs: number;
}

export interface NodeStatus {
  readonly nodeId: NodeId;
  readonly pid: number;
  readonly clusterName: string;
  readonly state: SrpState;
  readonly ringId: { rep: number; seq: number };
  readonly members: readonly NodeId[];
  readonly left: boolean;
  readonly uptimeMs: number;
  readonly lastConfiguration: ConfigurationRecord | null;
  readonly configurationCount: number;
  readonly srp: SrpNode['stats'];
  /** Membership packets refused before srp (see MembershipGuard). */
  readonly guardDropped: Record<string, number>;
  readonly transport: ReturnType<UdpTransport['stats']>;
  readonly pg: ProcessGroups['stats'];
  readonly load: LoadStatus;
  readonly ipc: IpcStatus;
  readonly sync: SyncEngineStats & { readonly inProgress: boolean };
  readonly cpg: CpgStatus;
  readonly ckpt: CkptServiceStats & { readonly checkpoints: number; readonly openHandles: number };
  readonly plock: PlockServiceStats & { readonly ready: boolean; readonly ownership: boolean };
  readonly recorder: { readonly path: string; readonly mapped: boolean };
  readonly ringSeqFile: string;
  readonly partition: readonly (readonly NodeId[])[] | null;
  readonly timings: { readonly token: number; readonly consensus: number; readonly join: number };
}

export interface ReplicaDigest {
  readonly ckpt: { readonly checkpoints: number; readonly sha256: string };
  readonly plock: { readonly sha256: string };
}

export interface IpcStatus {
  /** The client IPC socket (`totem cpg --socket`, the Cpg and checkpoint libraries). */
  readonly socket: string;
  readonly connections: number;
  readonly stats: IpcServerStats;
}

export interface CpgStatus {
  readonly groups: number;
  /** Processes in all groups, cluster-wide, as this node sees them. */
  readonly processes: number;
  readonly deferred: number;
  readonly syncInProgress: boolean;
}

export class NodeRuntime {
  readonly nodeId: NodeId;
  readonly paths: NodePaths;
  readonly recorder: Recorder;
  private readonly log: Logger;
  private readonly config: TotemConfig;
  private readonly ring: ProcessRing;
  private readonly removeHooks: () => void;
  private readonly store: RingSeqStore;
  private readonly timers: RealTimers;
  private readonly clock = (): number => performance.now();
  private readonly startedAt: number;
  private transport!: UdpTransport;
  private srp!: SrpNode;
  private pg!: ProcessGroups;
  private load!: LoadGroup;
  private syncEngine!: SyncEngine;
  private cpgService!: CpgService;
  private ckptService!: CkptService;
  private plockService!: PlockService;
  private plockTimer: NodeJS.Timeout | undefined;
  private ipcServer: IpcServer | undefined;
  /**
   * Where the checkpoint service's replies go: the checkpoint IPC binding sets it when it is
   * registered (`runtime.ipc.register(new CkptIpcService(runtime.ckpt, ...))`).
   */
  ckptReplies: ((reply: CkptReply) => void) | undefined;
  private ckptTimer: NodeJS.Timeout | undefined;
  private ckptTimerAt: number | undefined;
  private readonly partition: Partition | undefined;
  private guard!: MembershipGuard;
  private partitionGroups: NodeId[][] | null = null;
  private inputNow = 0;
  private lastState: SrpState | undefined;
  private lastConf: ConfigurationRecord | null = null;
  private confCount = 0;
  private fatal = false;
  private stopped = false;
  private readonly onFatal: (err: unknown) => void;

  private constructor(opts: NodeRuntimeOptions) {
    this.nodeId = opts.nodeId;
    this.config = opts.config;
    this.log = opts.logger;
    this.onFatal = opts.onFatal;
    this.paths = nodePaths(opts.config, opts.nodeId);
    mkdirSync(this.paths.stateDir, { recursive: true, mode: 0o700 });
    this.ring = openProcessRing({
      nodeId: opts.nodeId,
      runDir: this.paths.ringDir,
      label: `totem daemon node ${opts.nodeId}`,
      ...(opts.recorderSlots ? { slots: opts.recorderSlots } : {}),
      log: (line) => this.log.warning('RECORDER', line),
    });
    this.recorder = this.ring.recorder;
    this.removeHooks = installRecorderHooks(this.ring);
    this.store = new RingSeqStore(this.paths.stateDir, opts.nodeId);
    this.timers = new RealTimers(this.clock, (timer) =>
      this.input((now) => this.srp.timerExpired(now, timer)),
    );
    this.partition = opts.testPartition ? new Partition() : undefined;

    this.startedAt = this.clock();
  }

  /** Opens the transport and starts the node; rejects (with everything closed) if it cannot. */
  static async start(opts: NodeRuntimeOptions): Promise<NodeRuntime> {
    const rt = new NodeRuntime(opts);
    try {
      await rt.open();
    } catch (err) {
      rt.timers.cancelAll();
      rt.cancelCkptTimer();
      await rt.ipcServer?.close();
      await rt.transport?.close();
      rt.removeHooks();
      rt.ring.close('start failed');
      throw err;
    }
    return rt;
  }

  private async open(): Promise<void> {
    const persisted = this.store.load();
    this.guard = new MembershipGuard(
      this.config.nodelist.map((n) => n.nodeId),
      persisted,
    );
    const { envelope, warnings } = await envelopeFromConfig(this.config, this.nodeId);
    for (const w of warnings) this.log.warning('TRANSPORT', w);
    const base = transportOptionsFromConfig(this.config, this.nodeId, envelope, (from, payload) =>
      this.input((now) => {
        const refused = this.guard.check(payload, this.srp.ringId.seq);
        if (refused === undefined) this.srp.receive(now, from, payload);
        else this.recorder.rec(EV.RUNTIME_GUARD_DROP, GUARD_REASONS.indexOf(refused), from, payload.length);
      }),
    );
    this.transport = await UdpTransport.open({
      ...base,
      recorder: this.recorder,
      clock: this.clock,
      ...(this.partition ? { filter: this.partition.filter } : {}),
    });
    const srpConfig = srpConfigFromTotem(this.config, this.transport.maxPayload);
    const host: Host = {
      send: (to, packet) => this.transport.send(to, packet),
      setTimer: (timer, delay) => this.timers.set(timer, delay, this.inputNow),
      cancelTimer: (timer) => this.timers.cancel(timer),
      persistRingSeq: (seq) => this.persistRingSeq(seq),
    };
    let plockBinding: PlockIpcService | undefined;
    const stack = buildServiceStack({
      nodeId: this.nodeId,
      srpConfig,
      host,
      recorder: this.recorder,
      persistedRingSeq: persisted,
      // Checkpoint ids made by this run differ from those of earlier runs of the node.
      ckptIncarnation: Math.floor(Date.now() / 1000) >>> 0,
      onCkptReply: (reply) => this.ckptReplies?.(reply),
      onConfiguration: (conf) => this.onConfiguration(conf),
      beforeTokenVisit: () => this.load.pump(),
      withPg: (pg) => {
        this.load = new LoadGroup(pg, this.nodeId);
      },
      onPlockReply: (reply) => plockBinding?.reply(reply),
      plock: {
        ownership: this.config.plock?.ownership ?? false,
        // A restart must look different to the others even within the same second.
        incarnation: randomInt(1, 0xffffffff),
        onLost: (lost) => plockBinding?.lost(lost),
      },
    });
    this.srp = stack.srp;
    this.pg = stack.pg;
    this.syncEngine = stack.sync;
    this.cpgService = stack.cpg;
    this.ckptService = stack.ckpt;
    this.plockService = stack.plock!;
    const ipcSocket = this.config.runtime.ipcSocket;
    this.ipcServer = await IpcServer.listen({
      dir: dirname(ipcSocket),
      socketName: basename(ipcSocket),
      mode: 0o770,
      ...(this.config.runtime.ipcUid === undefined ? {} : { uid: this.config.runtime.ipcUid }),
      ...(this.config.runtime.ipcGid === undefined ? {} : { gid: this.config.runtime.ipcGid }),
      recorder: this.recorder,
      nodeId: this.nodeId,
      // Client input is an input like any other: its time is the time timers are armed from.
      clock: () => {
        this.inputNow = this.clock();
        return this.inputNow;
      },
      afterInput: () => this.afterClientInput(),
    });
    this.ipcServer.register(this.guarded(new CpgIpcService(this.cpgService)));
    // Checkpoint times (expiration, retention) are wall-clock ms, the clock clients know.
    const ckptBinding = new CkptIpcService(this.ckptService, { clock: () => this.ckptNow() });
    this.ckptReplies = (reply) => ckptBinding.reply(reply);
    this.ipcServer.register(this.guarded(ckptBinding));
    plockBinding = new PlockIpcService(this.plockService, { clock: () => this.inputNow });
    this.ipcServer.register(this.guarded(plockBinding));
    const addr = this.transport.address();
    this.log.notice(
      'MAIN',
      `node ${this.nodeId} of cluster ${this.config.totem.clusterName} on ${addr.address}:${addr.port} ` +
        `(${this.config.totem.transport}, cipher ${this.config.totem.cryptoCipher}); ` +
        `token ${srpConfig.token} ms, consensus ${srpConfig.consensus} ms; last ring seq ${persisted}; ` +
        `recorder ${this.ring.path}`,
    );
    this.log.notice('MAIN', `client IPC socket ${ipcSocket}`);
    if (this.partition)
      this.log.warning('MAIN', 'test-only partition control is enabled (TOTEM_TEST_PARTITION)');
    this.input((now) => {
      this.recorder.rec(EV.RUNTIME_START, this.nodeId, persisted, srpConfig.token, srpConfig.consensus);
      this.srp.start(now);
    });
  }

  /** One input: read the clock once, stamp the recorder, run the core, then look at what changed. */
  private input(handle: (now: number) => void): void {
    if (this.fatal || this.stopped) return;
    const now = this.clock();
    this.inputNow = now;
    this.recorder.setTime(now);
    try {
      handle(now);
    } catch (err) {
      this.fail(err);
      return;
    }
    this.afterCore();
  }

  /** Client requests ran outside input() (the IPC server calls the services directly). */
  private afterClientInput(): void {
    if (this.fatal || this.stopped) return;
    this.afterCore();
  }

  private afterCore(): void {
    this.armCkptTimer();
    this.armPlockTimer();
    const state = this.srp.state;
    if (state !== this.lastState) {
      this.lastState = state;
      const r = this.srp.ringId;
      this.recorder.rec(EV.RUNTIME_STATE, STATE_INDEX[state], r.rep, r.seq >>> 0);
      this.log.debug('SRP', `state ${state} (ring ${r.rep}/${r.seq})`);
    }
  }

  /** One real timer for the checkpoint service's retention and section expiries. */
  private armCkptTimer(): void {
    const deadline = this.ckptService.nextDeadline();
    if (deadline === this.ckptTimerAt && (deadline === undefined || this.ckptTimer !== undefined)) return;
    this.cancelCkptTimer();
    if (deadline === undefined) return;
    const now = this.ckptNow();
    const delay = deadline <= now ? CKPT_RECHECK_MS : Math.min(deadline - now, CKPT_MAX_TIMER_MS);
    this.ckptTimerAt = deadline;
    this.ckptTimer = setTimeout(() => {
      this.ckptTimer = undefined;
      this.ckptTimerAt = undefined;
      this.input(() => this.ckptService.tick(this.ckptNow()));
    }, delay);
    this.ckptTimer.unref();
  }

  /** The plock service retries a failed checkpoint store after a delay. */
  private armPlockTimer(): void {
    const deadline = this.plockService?.nextDeadline();
    if (deadline === undefined || this.plockTimer !== undefined) return;
    this.plockTimer = setTimeout(
      () => {
        this.plockTimer = undefined;
        this.input((now) => this.plockService.tick(now));
      },
      Math.max(1, deadline - this.clock()),
    );
    this.plockTimer.unref();
  }

  private cancelCkptTimer(): void {
    if (this.plockTimer !== undefined) clearTimeout(this.plockTimer);
    this.plockTimer = undefined;
    if (this.ckptTimer !== undefined) clearTimeout(this.ckptTimer);
    this.ckptTimer = undefined;
    this.ckptTimerAt = undefined;
  }

  private fail(err: unknown): void {
    this.fatal = true;
    const text = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    this.recorder.rec(EV.RUNTIME_INTERNAL_ERROR, this.recorder.intern(text.slice(0, 200)));
    this.ring.flush();
    this.log.error('MAIN', `internal error, node stops: ${err instanceof Error ? err.stack : text}`);
    this.timers.cancelAll();
    this.cancelCkptTimer();
    this.onFatal(err);
  }

  private persistRingSeq(seq: number): void {
    this.store.save(seq);
    this.recorder.rec(EV.RUNTIME_RING_SEQ_SAVED, Math.floor(seq / 2 ** 32), seq >>> 0);
  }

  private onConfiguration(conf: Configuration): void {
    this.confCount++;
    this.lastConf = {
      kind: conf.kind,
      ringId: { rep: conf.ringId.rep, seq: conf.ringId.seq },
      members: [...conf.members],
      left: [...conf.left],
      joined: [...conf.joined],
      atMs: Math.round(this.inputNow - this.startedAt),
    };
    const extra =
      conf.kind === 'transitional'
        ? conf.left.length > 0
          ? ` left [${conf.left.join(' ')}]`
          : ''
        : conf.joined.length > 0
          ? ` joined [${conf.joined.join(' ')}]`
          : '';
    this.log.notice(
      'SRP',
      `${conf.kind} configuration ring ${conf.ringId.rep}/${conf.ringId.seq} members [${conf.members.join(' ')}]${extra}`,
    );
  }

  /** Queues a test load on the built-in group (see LoadGroup). */
  queueLoad(count: number, size: number, safe = false): void {
    // A bad request throws here, to the caller, before the core is involved.
    this.load.enqueue(count, size, safe ? Guarantee.Safe : Guarantee.Agreed);
    this.input(() => {
      this.recorder.rec(EV.RUNTIME_LOAD_QUEUED, count, size);
      this.load.pump();
    });
  }

  /** Restarts the load group's per-ring count and hash (see LoadGroup.resetRing). */
  resetLoadRing(): void {
    this.load.resetRing();
  }

  /** Test-only: splits the nodes into groups that hear only each other; null heals. */
  setPartition(groups: NodeId[][] | null): void {
    if (!this.partition)
      throw new Error('partition control is disabled (start the daemon with TOTEM_TEST_PARTITION=1)');
    if (groups !== null) new Partition(groups); // throws on a node listed twice, before anything changes
    this.input(() => {
      if (groups === null) this.partition!.heal();
      else this.partition!.split(groups);
      this.partitionGroups = groups;
      const mine = groups?.find((g) => g.includes(this.nodeId))?.length ?? 0;
      this.recorder.rec(EV.RUNTIME_PARTITION, groups?.length ?? 0, mine);
      this.log.warning('MAIN', groups ? `test partition ${JSON.stringify(groups)}` : 'test partition healed');
    });
  }

  /**
   * A canonical digest of the replicated state (checkpoint database, plock tables): equal on every
   * member once the ring is quiet, whatever order the replicas were built in.
   */
  replicaDigest(): ReplicaDigest {
    const db = this.ckptService.database;
    const sha = (text: string): string => createHash('sha256').update(text).digest('hex');
    return {
      ckpt: { checkpoints: db.byId.size, sha256: sha(db.dump()) },
      // Resources owned by one node keep their table there alone: the replicated part only.
      plock: { sha256: sha(this.plockService.dump(false)) },
    };
  }

  dumpRecorder(): string {
    this.recorder.setTime(this.clock());
    return this.ring.dump();
  }

  recordSignal(signal: string): void {
    this.recorder.setTime(this.clock());
    this.recorder.rec(EV.RUNTIME_SIGNAL, this.recorder.intern(signal));
  }

  status(): NodeStatus {
    const r = this.srp.ringId;
    return {
      nodeId: this.nodeId,
      pid: process.pid,
      clusterName: this.config.totem.clusterName,
      state: this.srp.state,
      ringId: { rep: r.rep, seq: r.seq },
      members: [...this.srp.members],
      left: this.srp.left,
      uptimeMs: Math.round(this.clock() - this.startedAt),
      lastConfiguration: this.lastConf,
      configurationCount: this.confCount,
      srp: structuredClone(this.srp.stats),
      guardDropped: { ...this.guard.dropped },
      transport: this.transport.stats(),
      pg: { ...this.pg.stats },
      load: this.load.status(),
      ipc: {
        socket: this.config.runtime.ipcSocket,
        connections: this.ipcServer?.connectionCount ?? 0,
        stats: this.ipcServer?.stats ?? { accepted: 0, closedByReason: {}, requests: 0, eventsPushed: 0 },
      },
      sync: { ...this.syncEngine.stats, inProgress: this.syncEngine.inProgress },
      cpg: this.cpgStatus(),
      ckpt: {
        ...this.ckptService.stats,
        checkpoints: this.ckptService.database.byId.size,
        openHandles: this.ckptService.openHandles,
      },
      plock: {
        ...this.plockService.stats,
        ready: this.plockService.ready,
        ownership: this.plockService.ownership,
      },
      recorder: { path: this.ring.path, mapped: this.ring.mapped },
      ringSeqFile: this.store.path,
      partition: this.partitionGroups,
      timings: {
        token: this.srp.config.token,
        consensus: this.srp.config.consensus,
        join: this.srp.config.join,
      },
    };
  }

  /** The client IPC server (its stats, its socket path). */
  get ipc(): IpcServer {
    if (!this.ipcServer) throw new Error('the IPC server is not open');
    return this.ipcServer;
  }

  /**
   * Registers a service's IPC binding, with the runtime's fault handling around it (a throw
   * from the service stops the node as a throw from any input does).
   */
  registerIpcService(service: IpcService): void {
    this.ipc.register(this.guarded(service));
  }

  private guarded(service: IpcService): GuardedService {
    return new GuardedService(
      service,
      () => !this.fatal && !this.stopped,
      (err) => this.fail(err),
    );
  }

  get cpg(): CpgService {
    return this.cpgService;
  }

  /** The checkpoint service; its IPC binding calls request/clientGone and sets `ckptReplies`. */
  get ckpt(): CkptService {
    return this.ckptService;
  }

  /** The plock service (its IPC binding is registered by the runtime). */
  get plock(): PlockService {
    return this.plockService;
  }

  get sync(): SyncEngine {
    return this.syncEngine;
  }

  /**
   * The checkpoint service's clock: wall time (ms since the epoch). Its times travel between
   * nodes (the originator's time of a close, section expirations set by clients) and are
   * compared by whichever node is in charge of expiry, so a per-process monotonic clock
   * (performance.now(), 0 at each daemon's start) would not do. The checkpoint IPC binding
   * must use this clock too.
   */
  ckptNow(): number {
    return Date.now();
  }

  private cpgStatus(): CpgStatus {
    const groups = this.cpgService.groups();
    return {
      groups: groups.length,
      processes: groups.reduce((n, g) => n + g.members.length, 0),
      deferred: this.cpgService.deferredCount,
      syncInProgress: this.cpgService.syncInProgress,
    };
  }

  /**
   * Graceful leave: the others see this node's leave join and re-form at once instead of
   * waiting for the token to be lost. `lingerMs` lets the datagrams leave before the
   * sockets close.
   */
  async leave(lingerMs = 100): Promise<void> {
    if (!this.stopped && !this.fatal) {
      await this.ipcServer?.close();
      this.input((now) => this.srp.leave(now));
      this.log.notice('MAIN', `node ${this.nodeId} leaves the ring`);
      await new Promise((resolve) => setTimeout(resolve, lingerMs));
    }
    await this.close('leave');
  }

  /** Stops without telling anyone (the others will notice by timeout). */
  async close(reason: string): Promise<void> {
    if (this.stopped) return;
    // Clients hear the daemon is going first (their groups see them leave while srp still runs).
    await this.ipcServer?.close();
    if (this.stopped) return;
    this.stopped = true;
    this.timers.cancelAll();
    this.cancelCkptTimer();
    this.cpgService.dispose();
    this.recorder.setTime(this.clock());
    this.recorder.rec(EV.RUNTIME_STOP, this.recorder.intern(reason));
    await this.transport.close();
    this.removeHooks();
    this.ring.close(reason);
  }
}
