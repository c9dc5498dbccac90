/** Test scaffolding: nodes running pg + sync engine + checkpoint service on a PartitionNet. */

import assert from 'node:assert/strict';
import type { NodeId } from '../../src/core/io.js';
import { ProcessGroups } from '../../src/pg/process-groups.js';
import { Recorder } from '../../src/recorder/recorder.js';
import { CkptService } from '../../src/services/ckpt/ckpt-service.js';
import {
  type CkptReply,
  type CkptRequest,
  type CreationAttributes,
  CreationFlags,
  OpenFlags,
  TIME_END,
} from '../../src/services/ckpt/types.js';
import { SyncEngine, syncOrderedListener } from '../../src/sync/sync-engine.js';
import { PartitionNet } from '../sync/partition-net.js';

export interface CkptNode {
  readonly id: NodeId;
  readonly pg: ProcessGroups;
  readonly engine: SyncEngine;
  readonly ckpt: CkptService;
  readonly recorder: Recorder;
  readonly replies: CkptReply[];
}

// Distributes Omit over the request union.
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
export type Req = DistributiveOmit<CkptRequest, 'reqId'>;

export const ATTRS: CreationAttributes = {
  creationFlags: CreationFlags.WrActiveReplica,
  checkpointSize: 4096,
  retentionDuration: TIME_END,
  maxSections: 8,
  maxSectionSize: 1024,
  maxSectionIdSize: 16,
};

export const RW_CREATE = OpenFlags.Read | OpenFlags.Write | OpenFlags.Create;
export const RW = OpenFlags.Read | OpenFlags.Write;

export const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
export const text = (b: Uint8Array | undefined): string => new TextDecoder().decode(b);

export class CkptCluster {
  readonly net: PartitionNet;
  readonly nodes = new Map<NodeId, CkptNode>();
  now = 1000;
  private reqId = 1;
  private incarnation = 0;

  constructor(ids: readonly NodeId[], queueCapacity = 64) {
    this.net = new PartitionNet(queueCapacity);
    for (const id of ids) this.start(id);
    this.net.reconfigure([ids]);
    this.settle();
  }

  /** Starts (or restarts, empty) a node's stack; it joins when the net is reconfigured. */
  start(id: NodeId): CkptNode {
    const recorder = new Recorder({ slots: 4096, nodeId: id, virtualClock: true });
    const pg = new ProcessGroups({ channel: this.net.channel(id), recorder, nodeId: id });
    const engine = new SyncEngine({ pg, recorder, nodeId: id });
    const replies: CkptReply[] = [];
    const ckpt = new CkptService({
      pg,
      recorder,
      nodeId: id,
      sync: engine,
      onReply: (r) => replies.push(r),
      incarnation: this.incarnation++,
    });
    engine.register(ckpt);
    this.net.attach(id, syncOrderedListener(pg, engine));
    const node = { id, pg, engine, ckpt, recorder, replies };
    this.nodes.set(id, node);
    return node;
  }

  node(id: NodeId): CkptNode {
    const n = this.nodes.get(id);
    assert.ok(n, `no node ${id}`);
    return n;
  }

  /** Sends a request without waiting; returns its reqId. */
  send(id: NodeId, client: number, req: Req): number {
    const reqId = this.reqId++;
    this.now++;
    this.node(id).ckpt.request(client, { ...req, reqId } as CkptRequest, this.now);
    return reqId;
  }

  /** The reply to reqId at node id, if it came. */
  replyTo(id: NodeId, reqId: number): CkptReply | undefined {
    return this.node(id).replies.find((r) => r.reqId === reqId);
  }

  /** Sends a request, lets the ring run, returns the reply (asserts there is exactly one). */
  call(id: NodeId, client: number, req: Req): CkptReply {
    const reqId = this.send(id, client, req);
    this.settle();
    const got = this.node(id).replies.filter((r) => r.reqId === reqId);
    assert.equal(got.length, 1, `one reply to ${req.kind}`);
    return got[0]!;
  }

  /** call, and assert success. */
  ok(id: NodeId, client: number, req: Req): CkptReply {
    const r = this.call(id, client, req);
    assert.equal(r.error, undefined, `${req.kind}: ${r.error?.message}`);
    return r;
  }

  /** call, and assert the AIS error name. */
  fails(id: NodeId, client: number, req: Req, name: string): CkptReply {
    const r = this.call(id, client, req);
    assert.equal(
      r.error?.aisName,
      name,
      `${req.kind} should fail with ${name}, got ${r.error?.aisName ?? 'OK'}`,
    );
    return r;
  }

  open(
    id: NodeId,
    client: number,
    name: string,
    flags = RW_CREATE,
    attributes: CreationAttributes | undefined = ATTRS,
  ): number {
    const r = this.ok(id, client, {
      kind: 'open',
      name,
      flags,
      ...(flags & OpenFlags.Create ? { attributes } : {}),
    });
    return r.handle!;
  }

  settle(): void {
    this.net.settle();
  }

  tick(now: number): void {
    this.now = now;
    for (const n of this.nodes.values()) if (this.net.ringOf(n.id)) n.ckpt.tick(now);
    this.settle();
  }

  live(): CkptNode[] {
    return [...this.nodes.values()].filter((n) => this.net.ringOf(n.id) !== undefined);
  }

  /** Asserts every node in each partition holds the same database; returns one dump per partition. */
  assertReplicasAgree(): string[] {
    return this.net.partitions().map((members) => {
      const first = this.node(members[0]!).ckpt.database.dump();
      for (const m of members.slice(1)) {
        assert.equal(this.node(m).ckpt.database.dump(), first, `node ${m} differs from node ${members[0]}`);
      }
      return first;
    });
  }
}
