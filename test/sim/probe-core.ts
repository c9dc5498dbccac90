/**
 * A core that orders nothing: it broadcasts a numbered ping every PING_MS and logs what it
 * hears and when its timer fires, so tests can watch the simulated network and processes.
 */
import type { Guarantee, Host, NodeId } from '../../src/core/io.js';
import type { SimCore, SimCoreContext, SimCoreFactory } from '../../src/sim/sim-core.js';

export const PING_MS = 10;

export interface ProbeLog {
  /** [receiver, sender, counter, time] */
  readonly heard: [NodeId, NodeId, number, number][];
  /** [node, time] */
  readonly ticks: [NodeId, number][];
  /** [node, persistedRingSeq] at each start */
  readonly starts: [NodeId, number | undefined][];
}

class ProbeCore implements SimCore {
  readonly maxPayload = 0;
  private counter = 0;
  private readonly id: NodeId;
  private readonly host: Host;

  constructor(
    ctx: SimCoreContext,
    private readonly log: ProbeLog,
  ) {
    this.id = ctx.nodeId;
    this.host = ctx.host;
    log.starts.push([ctx.nodeId, ctx.persistedRingSeq]);
  }

  start(now: number): void {
    this.host.persistRingSeq(100 + Math.floor(now));
    this.host.setTimer(1, PING_MS);
  }

  receive(now: number, from: NodeId, packet: Uint8Array): void {
    const counter = new DataView(packet.buffer, packet.byteOffset, packet.byteLength).getUint32(0, true);
    this.log.heard.push([this.id, from, counter, now]);
  }

  timerExpired(now: number, _timer: number): void {
    this.log.ticks.push([this.id, now]);
    const p = new Uint8Array(4);
    new DataView(p.buffer).setUint32(0, ++this.counter, true);
    this.host.send(0, p);
    this.host.setTimer(1, PING_MS);
  }

  mcast(_payload: Uint8Array, _guarantee: Guarantee): boolean {
    return false;
  }

  sendQueueRoom(): number {
    return 0;
  }

  leave(_now: number): void {}

  phase(): string {
    return 'probing';
  }

  counters(): Readonly<Record<string, number>> {
    return { pings: this.counter };
  }

  describe(): string {
    return `probe counter=${this.counter}`;
  }
}

export function probeFactory(): { factory: SimCoreFactory; log: ProbeLog } {
  const log: ProbeLog = { heard: [], ticks: [], starts: [] };
  return {
    log,
    factory: {
      name: 'probe',
      timing: { tokenMs: 100, tokenRetransmitMs: 25, settleMs: 500 },
      create: (ctx) => new ProbeCore(ctx, log),
      inspect: () => ({ payloads: [] }),
    },
  };
}
