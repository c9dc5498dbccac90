/**
 * The `services` core: a node runs the daemon's whole service stack (src/services/stack.ts:
 * srp → pg → sync → cpg + ckpt) on the simulator's virtual host and clock, and a load's
 * clients (load.ts) make requests to the services. The world's own workload is not used
 * (sendQueueRoom is 0): the load issues its requests from its own timer. The ordering-level
 * checker sees srp's configurations; the ServicesChecker judges sync and the load's service.
 *
 * phase() is the srp state, or `SYNC:<step>` while the node's sync round runs over an
 * operational ring, with step one
 * of lists (service lists), process (the current service sends its sync data), barrier (this
 * node is done, waiting for the others' barriers): scenarios aim faults at those. `activate`
 * has no duration (all services commit in one input); a scenario aims at it by acting when
 * the last barrier is being delivered (see scenarios.ts).
 */
import type { Guarantee, Host, NodeId } from '../../core/io.js';
import type { PackerFaults } from '../../pg/internal-faults.js';
import { PACKER_FAULTS } from '../../pg/internal-faults.js';
import { buildServiceStack, type ServiceStack } from '../../services/stack.js';
import { resolveSrpConfig, type SrpConfig } from '../../srp/config.js';
import { Prng } from '../prng.js';
import type { CoreMaker, PacketInfo, SimCore, SimCoreContext, SimCoreFactory } from '../sim-core.js';
import { SIM_SRP_CONFIG, srpCoreFactory } from '../srp-core.js';
import { FrameWatch } from './frame-watch.js';
import type { LoadClient, ServiceLoad } from './load.js';
import { loadByName } from './loads.js';
import { ServicesChecker } from './services-checker.js';

/** The core's name in the registry (cores.ts, `--core services`). */
export const SERVICES_CORE = 'services';

/** Timer ids of the core's own timers (srp's are small integers). */
export const LOAD_TIMER = 1001;
export const CKPT_TIMER = 1002;
export const PLOCK_TIMER = 1003;
/** A checkpoint deadline already due but not acted on here: look again after this long. */
const CKPT_RECHECK_MS = 50;

export interface ServicesCoreOptions {
  readonly srp?: Partial<SrpConfig>;
  /** The load (default: ckpt). */
  readonly load?: ServiceLoad;
  /** Test-only: pg's fault switches (e.g. the 2008 mutant). */
  readonly pgFaults?: PackerFaults;
  /** pg's frame size (default: from the ordering layer's payload, as the daemon has it). */
  readonly pgFrameSize?: number;
}

const NO_PAYLOADS: PacketInfo = { payloads: [] };

export class ServicesSimCore implements SimCore {
  readonly stack: ServiceStack;
  readonly client: LoadClient;
  readonly watch: FrameWatch;
  private readonly prng: Prng;
  private ckptTimerAt: number | undefined;
  private ckptTimerArmed = false;
  private plockTimerAt: number | undefined;

  constructor(
    private readonly ctx: SimCoreContext,
    config: SrpConfig,
    private readonly load: ServiceLoad,
    checker: ServicesChecker,
    opts: ServicesCoreOptions,
  ) {
    const id = ctx.nodeId;
    const invariants = checker.load;
    this.watch = new FrameWatch(
      id,
      () => this.stack.pg.frameSize,
      invariants.sectionSent
        ? { section: (ckptId, n, exact) => invariants.sectionSent?.(id, this.stack, ckptId, n, exact) }
        : undefined,
    );
    const host: Host = {
      send: (to, packet) => {
        this.watch.sent(packet);
        ctx.host.send(to, packet);
      },
      setTimer: (timer, delay) => ctx.host.setTimer(timer, delay),
      cancelTimer: (timer) => ctx.host.cancelTimer(timer),
      persistRingSeq: (seq) => ctx.host.persistRingSeq(seq),
    };
    this.stack = buildServiceStack({
      nodeId: id,
      srpConfig: config,
      host,
      recorder: ctx.recorder,
      persistedRingSeq: ctx.persistedRingSeq,
      ckptIncarnation: ctx.incarnation,
      onCkptReply: (reply) => this.client.ckptReply(reply),
      onConfiguration: (conf) => {
        ctx.listener.configurationChange(conf);
        checker.servicesConfiguration(id, conf, this.stack);
      },
      onCkptActivated: (db, round) => checker.ckptActivated(id, db, round),
      onPlockReply: (reply) => this.client.plockReply?.(reply),
      ...(load.plock ? { plock: load.plock } : {}),
      pg: {
        ...(opts.pgFrameSize === undefined ? {} : { frameSize: opts.pgFrameSize }),
        ...(opts.pgFaults ? { [PACKER_FAULTS]: opts.pgFaults } : {}),
      },
    });
    this.stack.sync.onRoundEnd((outcome, ringId) => checker.roundEnded(id, outcome, ringId, this.stack));
    this.prng = new Prng((Math.imul(ctx.seed ^ 0x5eed, 0x9e3779b1) ^ (id << 16) ^ ctx.incarnation) >>> 0);
    this.client = load.attach(
      {
        nodeId: id,
        incarnation: ctx.incarnation,
        stack: this.stack,
        prng: this.prng.fork(),
        recorder: ctx.recorder,
        active: () => ctx.workloadActive(),
      },
      checker.load,
    );
    checker.attach(id, ctx.incarnation, this.stack, this.client);
  }

  start(now: number): void {
    this.stack.srp.start(now);
    this.ctx.host.setTimer(LOAD_TIMER, this.load.stepMs * (0.5 + this.prng.float()));
    this.afterInput(now);
  }

  receive(now: number, from: NodeId, packet: Uint8Array): void {
    this.stack.srp.receive(now, from, packet);
    this.afterInput(now);
  }

  timerExpired(now: number, timer: number): void {
    if (timer === LOAD_TIMER) {
      this.client.step(now);
      if (this.ctx.workloadActive() || this.client.finishing?.())
        this.ctx.host.setTimer(LOAD_TIMER, this.load.stepMs * (0.5 + this.prng.float()));
    } else if (timer === CKPT_TIMER) {
      this.ckptTimerArmed = false;
      this.ckptTimerAt = undefined;
      this.stack.ckpt.tick(now);
    } else if (timer === PLOCK_TIMER) {
      this.plockTimerAt = undefined;
      this.stack.plock?.tick(now);
    } else this.stack.srp.timerExpired(now, timer);
    this.afterInput(now);
  }

  /** One timer for the checkpoint service's retention and section expiries, as the daemon keeps. */
  private afterInput(now: number): void {
    this.armPlockTimer(now);
    const deadline = this.stack.ckpt.nextDeadline();
    if (deadline === this.ckptTimerAt && (deadline === undefined || this.ckptTimerArmed)) return;
    this.ctx.host.cancelTimer(CKPT_TIMER);
    this.ckptTimerArmed = false;
    this.ckptTimerAt = deadline;
    if (deadline === undefined) return;
    this.ctx.host.setTimer(CKPT_TIMER, deadline <= now ? CKPT_RECHECK_MS : deadline - now);
    this.ckptTimerArmed = true;
  }

  /** The plock service retries a failed checkpoint store after a delay (as the daemon's timer does). */
  private armPlockTimer(now: number): void {
    const deadline = this.stack.plock?.nextDeadline();
    if (deadline === undefined || this.plockTimerAt !== undefined) return;
    this.plockTimerAt = deadline;
    this.ctx.host.setTimer(PLOCK_TIMER, Math.max(1, deadline - now));
  }

  mcast(_payload: Uint8Array, _guarantee: Guarantee): boolean {
    return false;
  }

  sendQueueRoom(): number {
    return 0;
  }

  leave(now: number): void {
    this.stack.srp.leave(now);
  }

  get maxPayload(): number {
    return this.stack.srp.maxPayload;
  }

  phase(): string {
    const sync = this.stack.sync;
    const state = this.stack.srp.state;
    // A round runs over an operational ring; while srp re-forms the ring its state says more.
    if (!sync.inProgress || state !== 'OPERATIONAL') return state;
    return `SYNC:${sync.step}`;
  }

  counters(): Readonly<Record<string, number>> {
    const out: Record<string, number> = { ...this.watch.counts };
    for (const [k, v] of Object.entries(this.stack.sync.stats)) out[`sync.${k}`] = v;
    for (const [k, v] of Object.entries(this.stack.ckpt.stats)) out[`ckpt.${k}`] = v;
    for (const [k, v] of Object.entries(this.stack.plock?.stats ?? {})) out[`plock.${k}`] = v;
    for (const [k, v] of Object.entries(this.client.counters())) out[`load.${k}`] = v;
    const pg = this.stack.pg.stats as unknown as Record<string, unknown>;
    for (const [k, v] of Object.entries(pg)) if (typeof v === 'number') out[`pg.${k}`] = v;
    return out;
  }

  describe(): string {
    const s = this.stack.srp;
    const db = this.stack.ckpt.database;
    return `${this.phase()} ring ${s.ringId.rep}.${s.ringId.seq} [${s.members}] ckpt ${db.byId.size} checkpoints; ${this.client.describe()}`;
  }
}

export function servicesCoreFactory(opts: ServicesCoreOptions = {}): SimCoreFactory {
  const config = resolveSrpConfig({ ...SIM_SRP_CONFIG, ...opts.srp });
  const base = srpCoreFactory(opts.srp);
  const load = opts.load ?? loadByName('ckpt')!;
  return {
    name: `services+${load.name}`,
    // A sync round after the ring settles, then the requests queued meanwhile.
    timing: { ...base.timing, settleMs: base.timing.settleMs + 1000 },
    makeChecker: () => new ServicesChecker(load),
    create: (ctx: SimCoreContext) => {
      if (!(ctx.checker instanceof ServicesChecker))
        throw new Error('the services core needs its ServicesChecker');
      return new ServicesSimCore(ctx, config, load, ctx.checker, opts);
    },
    // The services' messages are judged through the services' state, not as workload payloads.
    inspect: (packet) => {
      const info = base.inspect(packet);
      return info.error === undefined ? NO_PAYLOADS : info;
    },
    classify: base.classify,
  };
}

export const makeServicesCore: CoreMaker = (overrides) =>
  servicesCoreFactory({ srp: overrides as Partial<SrpConfig> | undefined });
