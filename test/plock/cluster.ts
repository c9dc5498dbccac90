/** Test scaffolding: nodes running pg + sync engine + ckpt + plock services on a PartitionNet. */

import assert from 'node:assert/strict';
import type { NodeId } from '../../src/core/io.js';
import { ProcessGroups } from '../../src/pg/process-groups.js';
import { Recorder } from '../../src/recorder/recorder.js';
import { CkptService } from '../../src/services/ckpt/ckpt-service.js';
import { type PlockLost, PlockService } from '../../src/services/plock/plock-service.js';
import type { PlockReply, PlockRequest } from '../../src/services/plock/types.js';
import { SyncEngine, syncOrderedListener } from '../../src/sync/sync-engine.js';
import { PartitionNet } from '../sync/partition-net.js';

export interface PlockNode {
  readonly id: NodeId;
  readonly pg: ProcessGroups;
  readonly engine: SyncEngine;
  readonly ckpt: CkptService;
  readonly plock: PlockService;
  readonly recorder: Recorder;
  readonly replies: PlockReply[];
  /** Locks the service reported taken away by a merge. */
  readonly lost: PlockLost[];
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
export type Req = DistributiveOmit<PlockRequest, 'reqId'>;

export const SPACE = 'fs1';

export class PlockCluster {
  readonly net: PartitionNet;
  readonly nodes = new Map<NodeId, PlockNode>();
  now = 1000;
  private reqId = 1;
  private starts = 0;

  constructor(
    ids: readonly NodeId[],
    readonly ownership = false,
  ) {
    this.net = new PartitionNet(64);
    for (const id of ids) this.start(id);
    this.net.reconfigure([ids]);
    this.settle();
  }

  /** Starts (or restarts, empty) a node's stack; it joins when the net is reconfigured. */
  start(id: NodeId): PlockNode {
    const recorder = new Recorder({ slots: 8192, nodeId: id, virtualClock: true });
    const pg = new ProcessGroups({ channel: this.net.channel(id), recorder, nodeId: id });
    const engine = new SyncEngine({ pg, recorder, nodeId: id });
    const replies: PlockReply[] = [];
    const lost: PlockLost[] = [];
    let plock: PlockService | undefined;
    const ckpt = new CkptService({
      pg,
      recorder,
      nodeId: id,
      sync: engine,
      onReply: (r) => {
        if (plock && r.client === plock.ckptClient) plock.ckptReply(r);
      },
      incarnation: id * 100 + this.reqId,
    });
    plock = new PlockService({
      pg,
      recorder,
      nodeId: id,
      sync: engine,
      ckpt,
      ownership: this.ownership,
      onReply: (r) => replies.push(r),
      incarnation: ++this.starts,
      onLost: (l) => lost.push(l),
    });
    engine.register(ckpt);
    engine.register(plock);
    const inner = syncOrderedListener(pg, engine);
    const p = plock;
    this.net.attach(id, {
      deliver: (...a) => inner.deliver(...a),
      configurationChange: (c) => inner.configurationChange(c),
      tokenVisit: () => {
        p.pump();
        inner.tokenVisit();
      },
    });
    const node = { id, pg, engine, ckpt, plock, recorder, replies, lost };
    this.nodes.set(id, node);
    return node;
  }

  node(id: NodeId): PlockNode {
    const n = this.nodes.get(id);
    assert.ok(n, `no node ${id}`);
    return n;
  }

  /** Sends a request without waiting; returns its reqId. */
  send(id: NodeId, client: number, req: Req): number {
    const reqId = this.reqId++;
    this.now++;
    this.node(id).plock.request(client, { ...req, reqId } as PlockRequest, this.now);
    return reqId;
  }

  replyTo(id: NodeId, reqId: number): PlockReply | undefined {
    const got = this.node(id).replies.filter((r) => r.reqId === reqId);
    assert.ok(got.length <= 1, `at most one reply to ${reqId}`);
    return got[0];
  }

  call(id: NodeId, client: number, req: Req): PlockReply {
    const reqId = this.send(id, client, req);
    this.settle();
    const r = this.replyTo(id, reqId);
    assert.ok(r, `a reply to ${req.kind} at node ${id}`);
    return r;
  }

  lock(
    id: NodeId,
    client: number,
    inode: number,
    start: number,
    end: number,
    exclusive = true,
    wait = true,
  ): number {
    return this.send(id, client, {
      kind: 'lock',
      space: SPACE,
      inode,
      start,
      end,
      owner: client,
      exclusive,
      wait,
    });
  }

  unlock(id: NodeId, client: number, inode: number, start: number, end: number): PlockReply {
    return this.call(id, client, { kind: 'unlock', space: SPACE, inode, start, end, owner: client });
  }

  settle(): void {
    this.net.settle();
  }

  /** Asserts every live node holds the same replicated state; returns it. */
  assertAgree(): string {
    const live = [...this.nodes.values()].filter((n) => this.net.ringOf(n.id) !== undefined);
    const first = live[0]!.plock.dump();
    for (const n of live.slice(1))
      assert.equal(n.plock.dump(), first, `node ${n.id} differs from node ${live[0]!.id}`);
    return first;
  }
}
