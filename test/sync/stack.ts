/** Test scaffolding: per-node pg + sync engine stacks on a PartitionNet, and a probe service. */

import assert from 'node:assert/strict';
import { Guarantee, type NodeId, type RingId } from '../../src/core/io.js';
import type { SyncParticipant, SyncProgress, SyncRound } from '../../src/core/sync-participant.js';
import { ProcessGroups } from '../../src/pg/process-groups.js';
import { Recorder } from '../../src/recorder/recorder.js';
import { SyncEngine, syncOrderedListener } from '../../src/sync/sync-engine.js';
import { PartitionNet } from './partition-net.js';

/**
 * A service that sends `perRound` sync messages in its own group per round (yielding 'more'
 * after each one, so process spans many token visits), and on activate commits what it got:
 * the sorted list of (sender, count) of this round. It asserts the contract's call order.
 */
export class ProbeService implements SyncParticipant {
  private round: SyncRound | undefined;
  private sent = 0;
  private received = new Map<NodeId, number>();
  /** One entry per activation: ring and what was received from whom. */
  readonly commits: { ringId: RingId; got: string }[] = [];
  stale = 0;
  inits = 0;
  aborts = 0;

  constructor(
    readonly serviceName: string,
    private readonly pg: ProcessGroups,
    private readonly perRound: number,
  ) {
    pg.join(`probe-${serviceName}`, { deliver: (_g, sender, msg) => this.onMessage(sender, msg) });
  }

  syncInit(round: SyncRound): void {
    this.inits++;
    this.round = round;
    this.sent = 0;
    this.received = new Map();
  }

  syncProcess(): SyncProgress {
    assert.ok(this.round, `${this.serviceName}: process outside a round`);
    if (this.sent < this.perRound) {
      const m = new Uint8Array(12);
      const v = new DataView(m.buffer);
      v.setUint32(0, this.round.ringId.rep, true);
      v.setUint32(4, this.round.ringId.seq, true);
      v.setUint32(8, this.sent, true);
      const r = this.pg.send(`probe-${this.serviceName}`, m, Guarantee.Agreed);
      if (r.kind === 'ok') this.sent++;
    }
    return this.sent < this.perRound ? 'more' : 'done';
  }

  syncActivate(): void {
    assert.ok(this.round, `${this.serviceName}: activate outside a round`);
    const got = [...this.received.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([n, c]) => `${n}:${c}`)
      .join(',');
    this.commits.push({ ringId: this.round.ringId, got });
    this.round = undefined;
  }

  syncAbort(): void {
    this.aborts++;
    this.round = undefined;
    this.received = new Map();
  }

  private onMessage(sender: NodeId, msg: Uint8Array): void {
    const v = new DataView(msg.buffer, msg.byteOffset, msg.byteLength);
    const rep = v.getUint32(0, true);
    const seq = v.getUint32(4, true);
    if (!this.round || this.round.ringId.rep !== rep || this.round.ringId.seq !== seq) {
      this.stale++;
      return;
    }
    this.received.set(sender, (this.received.get(sender) ?? 0) + 1);
  }
}

export interface SyncNode {
  readonly id: NodeId;
  readonly pg: ProcessGroups;
  readonly engine: SyncEngine;
  readonly recorder: Recorder;
  readonly probes: ProbeService[];
  readonly ends: string[];
}

export function makeSyncNode(
  net: PartitionNet,
  id: NodeId,
  services: readonly string[] = ['a', 'b'],
  perRound = 3,
): SyncNode {
  const recorder = new Recorder({ slots: 4096, nodeId: id, virtualClock: true });
  const pg = new ProcessGroups({ channel: net.channel(id), recorder, nodeId: id });
  const engine = new SyncEngine({ pg, recorder, nodeId: id });
  const probes = services.map((s) => new ProbeService(s, pg, perRound));
  for (const p of probes) engine.register(p);
  const ends: string[] = [];
  engine.onRoundEnd((outcome, ring) => ends.push(`${outcome}@${ring.rep}.${ring.seq}`));
  net.attach(id, syncOrderedListener(pg, engine));
  return { id, pg, engine, recorder, probes, ends };
}

export function newNet(queueCapacity = 64): PartitionNet {
  return new PartitionNet(queueCapacity);
}
