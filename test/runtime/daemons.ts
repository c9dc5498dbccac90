/**
 * Multi-process test clusters: real `totem daemon` processes on 127.0.0.1, each test's own
 * directory and ports. Every process started here is killed by `destroy()` (call it in
 * `after`), whatever the test did. Not a test file: importing it starts nothing.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NodeId } from '../../src/core/io.js';
import {
  alive,
  type ClusterLayout,
  findFreePorts,
  killNode,
  nodeStatus,
  readPid,
  sleep,
  startNode,
  stopNode,
  waitForRing,
  writeCluster,
} from '../../src/runtime/cluster.js';
import { type ControlRequest, type ControlResponse, controlRequest } from '../../src/runtime/control.js';
import type { NodeStatus } from '../../src/runtime/node-runtime.js';

export interface TestClusterOptions {
  readonly size: number;
  readonly token?: number;
  readonly crypto?: 'aes256' | 'chacha20' | 'none';
  /** Start only these nodes (default all). */
  readonly start?: readonly NodeId[];
  readonly debug?: 'off' | 'on' | 'trace';
}

export class DaemonCluster {
  readonly token: number;
  readonly consensus: number;
  private readonly pids = new Set<number>();

  private constructor(
    readonly layout: ClusterLayout,
    readonly basePort: number,
    token: number,
  ) {
    this.token = token;
    this.consensus = Math.ceil(1.2 * token);
  }

  static async create(opts: TestClusterOptions): Promise<DaemonCluster> {
    const dir = mkdtempSync(join(tmpdir(), 'totem-rt-'));
    const basePort = await findFreePorts(opts.size);
    const token = opts.token ?? 400;
    const layout = await writeCluster({
      dir,
      size: opts.size,
      basePort,
      token,
      crypto: opts.crypto ?? 'none',
      debug: opts.debug ?? 'on',
    });
    const c = new DaemonCluster(layout, basePort, token);
    for (const n of opts.start ?? layout.nodes) c.start(n);
    return c;
  }

  get nodes(): readonly NodeId[] {
    return this.layout.nodes;
  }

  start(n: NodeId): number {
    const pid = startNode(this.layout, n, { ...process.env, TOTEM_TEST_PARTITION: '1' });
    this.pids.add(pid);
    return pid;
  }

  pid(n: NodeId): number | undefined {
    return readPid(this.layout, n);
  }

  async kill9(n: NodeId): Promise<void> {
    await killNode(this.layout, n);
  }

  async terminate(n: NodeId): Promise<string> {
    return (await stopNode(this.layout, n, 5000)).how;
  }

  status(n: NodeId): Promise<NodeStatus | undefined> {
    return nodeStatus(this.layout, n);
  }

  async statuses(nodes: readonly NodeId[] = this.nodes): Promise<NodeStatus[]> {
    const all = await Promise.all(nodes.map((n) => this.status(n)));
    for (const [i, s] of all.entries()) {
      assert.ok(s, `node ${nodes[i]} does not answer status\n${this.logs(nodes[i]!)}`);
    }
    return all as NodeStatus[];
  }

  async request(n: NodeId, req: ControlRequest): Promise<ControlResponse> {
    return controlRequest(this.layout.socket(n), req);
  }

  /** Waits until `nodes` are one ring; fails with every node's status and log tail if not. */
  async ring(nodes: readonly NodeId[], timeoutMs: number): Promise<NodeStatus[]> {
    const r = await waitForRing(this.layout, nodes, timeoutMs);
    if (!r) {
      const seen = await Promise.all(nodes.map((n) => this.status(n)));
      const lines = seen.map((s, i) =>
        s
          ? `node ${s.nodeId}: ${s.state} ring ${s.ringId.rep}/${s.ringId.seq} [${s.members}]`
          : `node ${nodes[i]}: no answer`,
      );
      assert.fail(
        `nodes [${nodes}] did not form one ring within ${timeoutMs} ms:\n${lines.join('\n')}\n${nodes.map((n) => this.logs(n)).join('\n')}`,
      );
    }
    return r;
  }

  /** Sends `count` test messages of `size` bytes from each of `senders`. */
  async load(senders: readonly NodeId[], count: number, size: number): Promise<void> {
    for (const n of senders) {
      const r = await this.request(n, { op: 'load', count, size });
      assert.ok(r.ok, `load on node ${n}: ${JSON.stringify(r)}`);
    }
  }

  /** Waits until every node in `nodes` delivered `total` test messages in the current ring; returns statuses. */
  async delivered(nodes: readonly NodeId[], total: number, timeoutMs: number): Promise<NodeStatus[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const s = await this.statuses(nodes);
      if (s.every((x) => x.load.ringDelivered >= total)) return s;
      if (Date.now() > deadline) {
        assert.fail(
          `deliveries within ${timeoutMs} ms: ${s.map((x) => `node ${x.nodeId}: ${x.load.ringDelivered}/${total} (queued ${x.load.queued})`).join(', ')}`,
        );
      }
      await sleep(100);
    }
  }

  /**
   * Waits until `nodes` have nothing queued and agree on the ring and its delivery count,
   * unchanged over two polls; then their ring hashes must be compared (not before: a node
   * may still be delivering the tail of a load).
   */
  async settled(nodes: readonly NodeId[], timeoutMs: number): Promise<NodeStatus[]> {
    const deadline = Date.now() + timeoutMs;
    let previous = '';
    for (;;) {
      const s = await this.statuses(nodes);
      const key = s.map((x) => `${x.ringId.rep}/${x.ringId.seq}:${x.load.ringDelivered}`);
      const agreed = s.every((x) => x.load.queued === 0) && new Set(key).size === 1;
      if (agreed && key[0] === previous) return s;
      previous = agreed ? key[0]! : '';
      if (Date.now() > deadline) {
        const senders = s.map((x) => `node ${x.nodeId} ${JSON.stringify(x.load.bySender)}`).join(', ');
        assert.fail(`not settled within ${timeoutMs} ms: ${key.join(' ')}; by sender: ${senders}`);
      }
      await sleep(150);
    }
  }

  /** Waits until no node has load queued and every node's count is still for two polls; returns statuses. */
  async quiet(nodes: readonly NodeId[], timeoutMs: number): Promise<NodeStatus[]> {
    const deadline = Date.now() + timeoutMs;
    let previous = '';
    for (;;) {
      const s = await this.statuses(nodes);
      const key = s.map((x) => `${x.load.queued}:${x.load.delivered}`).join(' ');
      if (s.every((x) => x.load.queued === 0) && key === previous) return s;
      previous = key;
      if (Date.now() > deadline) assert.fail(`not quiet within ${timeoutMs} ms: ${key}`);
      await sleep(300);
    }
  }

  async resetLoad(nodes: readonly NodeId[]): Promise<void> {
    for (const n of nodes) assert.ok((await this.request(n, { op: 'load-reset' })).ok);
  }

  async partition(groups: NodeId[][] | null, nodes: readonly NodeId[] = this.nodes): Promise<void> {
    for (const n of nodes) {
      const r = await this.request(n, { op: 'partition', groups });
      assert.ok(r.ok, `partition on node ${n}: ${JSON.stringify(r)}`);
    }
  }

  logs(n: NodeId, lines = 15): string {
    const read = (f: string): string => (existsSync(f) ? readFileSync(f, 'utf8') : '');
    const tail = (t: string): string => t.split('\n').slice(-lines).join('\n');
    return `--- node ${n} log (tail)\n${tail(read(this.layout.logFile(n)))}\n--- node ${n} out\n${tail(read(this.layout.outFile(n)))}`;
  }

  /** Kills every process this cluster ever started; removes the directory unless asked to keep it. */
  async destroy(keep = false): Promise<void> {
    for (const pid of this.pids) {
      if (alive(pid)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // Gone already.
        }
      }
    }
    const deadline = Date.now() + 3000;
    while ([...this.pids].some(alive) && Date.now() < deadline) await sleep(10);
    if (!keep) rmSync(this.layout.dir, { recursive: true, force: true });
  }
}

export { sleep };
