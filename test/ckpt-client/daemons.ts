/**
 * In-process daemons for the checkpoint client: N nodes on one LoopbackRing, each with pg +
 * the real SyncEngine + CkptService + an IpcServer serving CkptIpcService on its own socket.
 * Client input settles the ring (unless autoSettle is off). Exports only; runs nothing.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NodeId } from '../../src/core/io.js';
import { IpcServer } from '../../src/ipc/server.js';
import { LoopbackRing } from '../../src/pg/loopback-ordered-channel.js';
import { ProcessGroups } from '../../src/pg/process-groups.js';
import { Recorder } from '../../src/recorder/recorder.js';
import { CkptService } from '../../src/services/ckpt/ckpt-service.js';
import { CkptIpcService } from '../../src/services/ckpt/ipc-binding.js';
import { SyncEngine, syncOrderedListener } from '../../src/sync/sync-engine.js';

export interface CkptDaemon {
  readonly id: NodeId;
  readonly pg: ProcessGroups;
  readonly engine: SyncEngine;
  readonly ckpt: CkptService;
  readonly binding: CkptIpcService;
  readonly recorder: Recorder;
  readonly dir: string;
  server: IpcServer;
  readonly socket: string;
}

export class CkptDaemons {
  readonly nodes = new Map<NodeId, CkptDaemon>();
  /** The daemons' clock (ms): expiration times are compared with it. */
  now = 1_000_000;
  autoSettle = true;
  private scheduled = false;

  private constructor(
    readonly ring: LoopbackRing,
    readonly root: string,
  ) {}

  static async start(ids: readonly NodeId[], queueCapacity = 256): Promise<CkptDaemons> {
    const root = await mkdtemp(join(tmpdir(), 'totem-ckpt-'));
    const ring = new LoopbackRing({ members: ids, queueCapacity });
    const d = new CkptDaemons(ring, root);
    for (const id of ids) {
      const recorder = new Recorder({ slots: 8192, nodeId: id });
      const pg = new ProcessGroups({ channel: ring.channel(id), recorder, nodeId: id });
      const engine = new SyncEngine({ pg, recorder, nodeId: id });
      let binding: CkptIpcService | undefined;
      const ckpt = new CkptService({
        pg,
        recorder,
        nodeId: id,
        sync: engine,
        onReply: (r) => binding?.reply(r),
      });
      binding = new CkptIpcService(ckpt, { clock: () => d.now });
      engine.register(ckpt);
      ring.attach(id, syncOrderedListener(pg, engine));
      const dir = join(root, `node${id}`);
      const server = await d.listen(dir, recorder, id, binding);
      d.nodes.set(id, { id, pg, engine, ckpt, binding, recorder, dir, server, socket: server.path });
    }
    ring.reconfigure([...ids]);
    ring.settle();
    return d;
  }

  /** Closes a node's IPC server (dropping its clients, as a daemon restart would) and listens again. */
  async restartServer(id: NodeId): Promise<void> {
    const n = this.node(id);
    await n.server.close();
    n.server = await this.listen(n.dir, n.recorder, id, n.binding);
  }

  private async listen(
    dir: string,
    recorder: Recorder,
    id: NodeId,
    binding: CkptIpcService,
  ): Promise<IpcServer> {
    const server = await IpcServer.listen({
      dir,
      recorder,
      nodeId: id,
      clock: () => this.now,
      afterInput: () => this.scheduleSettle(),
    });
    server.register(binding);
    return server;
  }

  node(id: NodeId): CkptDaemon {
    const n = this.nodes.get(id);
    if (!n) throw new Error(`no node ${id}`);
    return n;
  }

  /** Lets time pass: every node ticks (expiry), then the ring settles. */
  tick(now: number): void {
    this.now = now;
    for (const n of this.nodes.values()) n.ckpt.tick(now);
    this.ring.settle();
  }

  /** Every replica's database dump (they must be equal). */
  dumps(): string[] {
    return [...this.nodes.values()].map((n) => n.ckpt.database.dump());
  }

  scheduleSettle(): void {
    if (this.scheduled || !this.autoSettle) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.ring.settle();
      if (this.ring.queuedFrames() > 0) this.scheduleSettle();
    });
  }

  async stop(): Promise<void> {
    for (const n of this.nodes.values()) await n.server.close();
    await rm(this.root, { recursive: true, force: true });
  }
}
