/**
 * The real ordering core under simulation: SrpNode behind the SimCore interface.
 */
import type { Guarantee, NodeId } from '../core/io.js';
import { decodeSharingPayload, totemCodec } from '../srp/codec.js';
import { resolveSrpConfig, type SrpConfig } from '../srp/config.js';
import { MessageType } from '../srp/messages.js';
import { SrpNode } from '../srp/srp-node.js';
import type { SrpStats } from '../srp/stats.js';
import type {
  CoreMaker,
  PacketInfo,
  PacketKind,
  SimCore,
  SimCoreContext,
  SimCoreFactory,
} from './sim-core.js';

/**
 * Timeouts for simulation: corosync's proportions (consensus 1.2 x token) at a fifth of whitetank's token timeout, so a seed
 * covers more reconfigurations per simulated second. Everything else is the default.
 */
export const SIM_SRP_CONFIG: Partial<SrpConfig> = { token: 200, consensus: 240, merge: 100 };

class SrpSimCore implements SimCore {
  constructor(private readonly node: SrpNode) {}

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
    return this.node.mcast(payload, guarantee);
  }

  sendQueueRoom(): number {
    return this.node.sendQueueRoom();
  }

  leave(now: number): void {
    this.node.leave(now);
  }

  get maxPayload(): number {
    return this.node.maxPayload;
  }

  phase(): string {
    return this.node.state;
  }

  counters(): Readonly<Record<string, number>> {
    return flattenStats(this.node.stats);
  }

  describe(): string {
    const n = this.node;
    const s = n.stats;
    return (
      `${n.state} ring ${n.ringId.rep}.${n.ringId.seq} [${n.members}] queue-room ${n.sendQueueRoom()} ` +
      `originated ${s.messagesOriginated} delivered ${s.messagesDelivered} gathers ${s.gatherEntries} ` +
      `token-losses ${s.tokenLosses} recovery-originated ${s.recoveryOriginated} range-violations ${s.rangeViolations}`
    );
  }
}

function flattenStats(stats: SrpStats): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(stats)) {
    if (typeof v === 'number') out[k] = v;
    else for (const [k2, v2] of Object.entries(v as Record<string, number>)) out[`${k}.${k2}`] = v2;
  }
  return out;
}

/** The message type byte of the Totem header (u16 magic, u8 version, u8 type, ...). */
const TYPE_OFFSET = 3;

const NO_PAYLOADS: PacketInfo = { payloads: [] };

const KINDS: Record<number, PacketKind> = {
  [MessageType.Token]: 'token',
  [MessageType.Mcast]: 'mcast',
  [MessageType.MergeDetect]: 'merge',
  [MessageType.Join]: 'join',
  [MessageType.CommitToken]: 'commit',
  [MessageType.TokenHoldCancel]: 'other',
};

export function srpCoreFactory(overrides: Partial<SrpConfig> = {}): SimCoreFactory {
  const config = resolveSrpConfig({ ...SIM_SRP_CONFIG, ...overrides });
  // Agreement after faults stop: a few gather/consensus rounds, recovery, then draining the
  // queues the workload filled (a send queue drains at up to window_size per rotation).
  const settleMs = 6 * (config.token + config.consensus) + 2000;
  return {
    name: 'srp',
    timing: { tokenMs: config.token, tokenRetransmitMs: config.tokenRetransmit, settleMs },
    create: (ctx: SimCoreContext) =>
      new SrpSimCore(
        new SrpNode({
          nodeId: ctx.nodeId,
          config,
          host: ctx.host,
          listener: ctx.listener,
          recorder: ctx.recorder,
          persistedRingSeq: ctx.persistedRingSeq,
        }),
      ),
    inspect(packet) {
      // Only multicasts carry payloads; decoding every token too would double the cost of the
      // busiest path. A token, join or commit token that did not decode would still show:
      // the receiver counts a decode error and the ring cannot make progress.
      if (packet[TYPE_OFFSET] !== MessageType.Mcast) return NO_PAYLOADS;
      try {
        // The payload is only peeked at, so it need not be copied out of the packet.
        const m = decodeSharingPayload(packet);
        if (m.type !== MessageType.Mcast) return NO_PAYLOADS;
        return { payloads: [m.encapsulated ? m.encapsulated.payload : m.payload] };
      } catch (err) {
        return { payloads: [], error: err instanceof Error ? err.message : String(err) };
      }
    },
    classify(packet) {
      try {
        return KINDS[totemCodec.decode(packet).type] ?? 'other';
      } catch {
        return 'other';
      }
    },
  };
}

export const makeSrpCore: CoreMaker = (overrides) => srpCoreFactory(overrides as Partial<SrpConfig>);
