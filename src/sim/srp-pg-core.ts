/**
 * The process-group layer stacked on the real ordering core: ProcessGroups over SrpNode.
 * The workload's messages go through pg.send as application messages of awkward shapes —
 * empty, a few bytes, ending exactly at a frame boundary ±3 bytes (often followed by empty
 * pieces: the 2008 bug's shape), large and fragmented over many frames — cut into random
 * pieces, many of them empty. What pg delivers goes to the simulator's listener, judged by
 * the AppChecker; a try-again result is kept and retried at the node's next token visit.
 */
import type { Configuration, Guarantee, NodeId, OrderedListener, RingId } from '../core/io.js';
import {
  CHUNK_LAST,
  type Chunk,
  CONTINUATION_HEADER_BYTES,
  decodeFrame,
  FRAME_HEADER_BYTES,
  firstChunkHeaderBytes,
} from '../pg/frame.js';
import type { GroupListener } from '../pg/process-groups.js';
import { ProcessGroups } from '../pg/process-groups.js';
import { decodeSharingPayload } from '../srp/codec.js';
import { resolveSrpConfig, type SrpConfig } from '../srp/config.js';
import { MessageType } from '../srp/messages.js';
import { SrpNode } from '../srp/srp-node.js';
import { DecodeError } from '../wire/decode-error.js';
import { AppChecker, appPayload, lastChunkMarker } from './app-checker.js';
import { decodePayload, encodePayload } from './payload.js';
import { Prng } from './prng.js';
import type { CoreMaker, PacketInfo, SimCore, SimCoreContext, SimCoreFactory } from './sim-core.js';
import { SIM_SRP_CONFIG, srpCoreFactory } from './srp-core.js';

export const SIM_GROUP = 'sim';
const GROUP_BYTES = new TextEncoder().encode(SIM_GROUP).length;
/** The largest application message the workload makes. */
export const LARGEST_APP_MESSAGE = 64 * 1024;

/** A listener between the ordering layer and pg; tests wrap it to plant faults. */
export type PgListenerWrap = (pgListener: GroupListener, nodeId: NodeId) => GroupListener;

export interface SrpPgOptions {
  readonly srp?: Partial<SrpConfig>;
  /** Test-only: wraps the listener pg delivers to (to drop or glue messages on purpose). */
  readonly wrapListener?: PgListenerWrap;
  /** Test-only: wraps the listener srp delivers frames to (to lose a frame above srp on purpose). */
  readonly wrapFrames?: (toPg: OrderedListener, nodeId: NodeId) => OrderedListener;
  /** Fractions of the message shapes (the rest are 16..600 bytes). */
  readonly shapes?: Partial<ShapeMix>;
}

export interface ShapeMix {
  readonly empty: number;
  readonly tiny: number;
  readonly boundary: number;
  readonly large: number;
}

export const DEFAULT_SHAPES: ShapeMix = { empty: 0.15, tiny: 0.1, boundary: 0.3, large: 0.05 };

interface Pending {
  readonly msgId: number;
  readonly pieces: Uint8Array[];
  readonly guarantee: Guarantee;
}

class SrpPgSimCore implements SimCore, OrderedListener {
  readonly node: SrpNode;
  readonly pg: ProcessGroups;
  private pending: Pending | undefined;
  private readonly extra = { tryAgain: 0, retried: 0, appSent: 0, boundaryShaped: 0 };

  constructor(
    private readonly ctx: SimCoreContext,
    config: SrpConfig,
    private readonly checker: AppChecker,
    private readonly opts: SrpPgOptions,
  ) {
    this.node = new SrpNode({
      nodeId: ctx.nodeId,
      config,
      host: ctx.host,
      listener: opts.wrapFrames ? opts.wrapFrames(this, ctx.nodeId) : this,
      recorder: ctx.recorder,
      persistedRingSeq: ctx.persistedRingSeq,
    });
    this.pg = new ProcessGroups({ channel: this.node, recorder: ctx.recorder, nodeId: ctx.nodeId });
    const up: GroupListener = {
      deliver: (_group, sender, message, guarantee) => {
        const f = this.frame!;
        ctx.listener.deliver(sender, message, guarantee, f.ring, f.seq);
      },
      configurationChange: (conf) => ctx.listener.configurationChange(conf),
    };
    this.pg.join(SIM_GROUP, opts.wrapListener ? opts.wrapListener(up, ctx.nodeId) : up);
  }

  private frame: { ring: RingId; seq: number } | undefined;

  // ---- OrderedListener (from srp) ----------------------------------------------------------

  deliver(sender: NodeId, payload: Uint8Array, guarantee: Guarantee, ringId: RingId, seq: number): void {
    let chunks: Chunk[] | undefined;
    try {
      chunks = decodeFrame(payload);
    } catch (err) {
      if (!(err instanceof DecodeError)) throw err;
    }
    this.checker.frameArrived(this.ctx.nodeId, sender, ringId, chunks);
    this.frame = { ring: ringId, seq };
    this.pg.deliver(sender, payload, guarantee, ringId, seq);
    this.frame = undefined;
    this.checker.frameDone(this.ctx.nodeId);
  }

  configurationChange(conf: Configuration): void {
    this.pg.configurationChange(conf);
  }

  tokenVisit(): void {
    this.pg.tokenVisit();
    const p = this.pending;
    if (!p) return;
    const r = this.pg.send(SIM_GROUP, p.pieces, p.guarantee);
    if (r.kind === 'ok') {
      this.pending = undefined;
      this.extra.retried++;
      this.checker.pgAccepted(p.msgId, r.msgId);
    } else if (r.kind === 'too-large') throw new Error(`pg refused message ${p.msgId} as too large`);
  }

  // ---- SimCore ---------------------------------------------------------------------------

  start(now: number): void {
    this.node.start(now);
  }

  receive(now: number, from: NodeId, packet: Uint8Array): void {
    this.node.receive(now, from, packet);
  }

  timerExpired(now: number, timer: number): void {
    this.node.timerExpired(now, timer);
  }

  mcast(payload: Uint8Array, guarantee: Guarantee): boolean {
    if (this.pending) return false;
    const d = decodePayload(payload);
    if (typeof d === 'string') throw new Error(`workload payload: ${d}`);
    const prng = new Prng((d.msgId * 0x9e3779b1) ^ this.ctx.nodeId);
    const length = this.shapeLength(prng);
    const pieces = cutIntoPieces(appPayload(d.msgId, this.ctx.nodeId, length), prng);
    this.checker.appSent(this.ctx.nodeId, d.msgId, length);
    this.extra.appSent++;
    const r = this.pg.send(SIM_GROUP, pieces, guarantee);
    if (r.kind === 'ok') this.checker.pgAccepted(d.msgId, r.msgId);
    else if (r.kind === 'try-again') {
      this.extra.tryAgain++;
      this.pending = { msgId: d.msgId, pieces, guarantee };
    } else throw new Error(`pg refused a ${length}-byte message as too large`);
    return true;
  }

  /** A length from the shape mix; boundary shapes aim at the end of the frame being packed. */
  private shapeLength(prng: Prng): number {
    const mix = { ...DEFAULT_SHAPES, ...this.opts.shapes };
    let x = prng.float();
    if ((x -= mix.empty) < 0) return 0;
    if ((x -= mix.tiny) < 0) return prng.range(1, 15);
    if ((x -= mix.boundary) < 0) {
      this.extra.boundaryShaped++;
      const frame = this.pg.frameSize;
      const staged = this.pg.stagedFrameBytes;
      const room =
        (staged > 0 ? frame - staged : frame - FRAME_HEADER_BYTES) - firstChunkHeaderBytes(GROUP_BYTES);
      // Also aim at the end of a later frame of a fragmented message.
      const frames = prng.chance(0.7) ? 0 : prng.range(1, 4);
      const perFrame = frame - FRAME_HEADER_BYTES - CONTINUATION_HEADER_BYTES;
      return Math.max(0, room + frames * perFrame + prng.range(-3, 3));
    }
    if ((x -= mix.large) < 0) return prng.range(2048, LARGEST_APP_MESSAGE);
    return prng.range(16, 600);
  }

  sendQueueRoom(): number {
    return this.pending ? 0 : this.node.sendQueueRoom();
  }

  leave(now: number): void {
    this.node.leave(now);
  }

  get maxPayload(): number {
    return LARGEST_APP_MESSAGE;
  }

  phase(): string {
    return this.node.state;
  }

  counters(): Readonly<Record<string, number>> {
    const s = this.pg.stats;
    const out: Record<string, number> = { ...this.extra };
    for (const [k, v] of Object.entries(s)) if (typeof v === 'number') out[`pg.${k}`] = v;
    return out;
  }

  describe(): string {
    const n = this.node;
    const s = this.pg.stats;
    return (
      `${n.state} ring ${n.ringId.rep}.${n.ringId.seq} [${n.members}] queue-room ${n.sendQueueRoom()} ` +
      `pg sent ${s.messagesSent} frames ${s.framesSent} waiting ${this.pg.framesWaiting} pending ${this.pending ? 1 : 0} ` +
      `partial-senders [${this.pg.pendingSenders()}]`
    );
  }
}

/** Cuts a message into 1..6 pieces with empty pieces sprinkled in (often trailing). */
export function cutIntoPieces(message: Uint8Array, prng: Prng): Uint8Array[] {
  const cuts = prng.range(0, 5);
  const at: number[] = [];
  for (let i = 0; i < cuts; i++) at.push(prng.range(0, message.length));
  at.sort((a, b) => a - b);
  const pieces: Uint8Array[] = [];
  let from = 0;
  const empty = new Uint8Array(0);
  for (const to of [...at, message.length]) {
    if (prng.chance(0.25)) pieces.push(empty);
    pieces.push(message.subarray(from, to));
    from = to;
  }
  if (prng.chance(0.5)) for (let i = prng.range(1, 3); i > 0; i--) pieces.push(empty);
  return pieces;
}

const TYPE_OFFSET = 3;
const NO_PAYLOADS: PacketInfo = { payloads: [] };

export function srpPgCoreFactory(opts: SrpPgOptions = {}): SimCoreFactory {
  const config = resolveSrpConfig({ ...SIM_SRP_CONFIG, ...opts.srp });
  const base = srpCoreFactory(opts.srp);
  return {
    name: 'srp+pg',
    // Large messages take many frames: allow a longer drain.
    timing: { ...base.timing, settleMs: base.timing.settleMs + 2000 },
    makeChecker: () => new AppChecker(),
    create: (ctx: SimCoreContext) => {
      if (!(ctx.checker instanceof AppChecker)) throw new Error('the srp+pg core needs the AppChecker');
      return new SrpPgSimCore(ctx, config, ctx.checker, opts);
    },
    inspect(packet) {
      // A node holds an application message once it holds the frame with its LAST chunk
      // (srp delivers in order, so the earlier fragments are held too). The chunks are
      // reported as markers the AppChecker maps to message ids (the safe-delivery check);
      // a frame that does not decode is a pg defect.
      if (packet[TYPE_OFFSET] !== MessageType.Mcast) return NO_PAYLOADS;
      let inner: { origin: NodeId; payload: Uint8Array };
      try {
        // The frame is only read here, so its bytes need not be copied out of the packet.
        const m = decodeSharingPayload(packet);
        if (m.type !== MessageType.Mcast) return NO_PAYLOADS;
        inner = m.encapsulated ?? m;
      } catch (err) {
        return { payloads: [], error: err instanceof Error ? err.message : String(err) };
      }
      try {
        const payloads: Uint8Array[] = [];
        for (const c of decodeFrame(inner.payload))
          if ((c.flags & CHUNK_LAST) !== 0)
            payloads.push(encodePayload(lastChunkMarker(inner.origin, c.msgId), inner.origin, 16));
        return { payloads };
      } catch (err) {
        return { payloads: [], error: `pg frame: ${err instanceof Error ? err.message : String(err)}` };
      }
    },
    classify: base.classify,
  };
}

export const makeSrpPgCore: CoreMaker = (overrides) =>
  srpPgCoreFactory({ srp: overrides as Partial<SrpConfig> | undefined });
