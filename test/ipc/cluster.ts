/**
 * An in-process stand-in for daemons (no daemon exists yet): N nodes on one LoopbackRing, each
 * with pg + cpg + an IpcServer on its own socket, the ring settled after every client input,
 * and a sync round run at start so clients see a totem configuration.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NodeId } from '../../src/core/io.js';
import { IpcServer, type IpcServerOptions } from '../../src/ipc/server.js';
import { LoopbackRing } from '../../src/pg/loopback-ordered-channel.js';
import { ProcessGroups } from '../../src/pg/process-groups.js';
import { Recorder } from '../../src/recorder/recorder.js';
import { CpgService } from '../../src/services/cpg/cpg-service.js';
import { CpgIpcService } from '../../src/services/cpg/ipc-binding.js';

export interface DaemonNode {
  readonly id: NodeId;
  readonly recorder: Recorder;
  readonly pg: ProcessGroups;
  readonly cpg: CpgService;
  server: IpcServer;
  readonly dir: string;
  readonly socket: string;
}

export type ServerTweaks = Partial<Omit<IpcServerOptions, 'dir' | 'recorder' | 'nodeId' | 'afterInput'>>;

export class LoopbackDaemons {
  readonly nodes = new Map<NodeId, DaemonNode>();
  private settleScheduled = false;

  private constructor(
    readonly ring: LoopbackRing,
    readonly root: string,
  ) {}

  /** Whether client input settles the ring (off: frames wait until a test calls ring.settle()). */
  autoSettle = true;

  static async start(
    ids: readonly NodeId[],
    tweaks: ServerTweaks = {},
    ringOpts: { queueCapacity?: number } = {},
  ): Promise<LoopbackDaemons> {
    const root = await mkdtemp(join(tmpdir(), 'totem-ipc-'));
    const ring = new LoopbackRing({ members: ids, queueCapacity: ringOpts.queueCapacity ?? 256 });
    const d = new LoopbackDaemons(ring, root);
    for (const id of ids) {
      const recorder = new Recorder({ slots: 16384, nodeId: id });
      const pg = new ProcessGroups({ channel: ring.channel(id), recorder, nodeId: id });
      ring.attach(id, pg);
      const cpg = new CpgService({ pg, recorder, nodeId: id });
      const dir = join(root, `node${id}`);
      const server = await d.listen(dir, recorder, id, cpg, tweaks);
      d.nodes.set(id, { id, recorder, pg, cpg, server, dir, socket: server.path });
    }
    d.sync();
    return d;
  }

  node(id: NodeId): DaemonNode {
    const n = this.nodes.get(id);
    if (!n) throw new Error(`no node ${id}`);
    return n;
  }

  /** One sync round over the current ring (the stand-in for the sync engine). */
  sync(): void {
    const members = this.ring.currentMembers;
    for (const id of members) {
      this.node(id).cpg.syncInit({ ringId: this.ring.currentRing, members, transitional: members });
    }
    for (let i = 0; i < 100; i++) {
      let more = false;
      for (const id of members) if (this.node(id).cpg.syncProcess() === 'more') more = true;
      this.ring.settle();
      if (!more) break;
    }
    for (const id of members) this.node(id).cpg.syncActivate();
  }

  /** Closes a node's server (a daemon that dies) and, with `restart`, opens it again. */
  async restartServer(id: NodeId, tweaks: ServerTweaks = {}): Promise<void> {
    const n = this.node(id);
    await n.server.close();
    n.server = await this.listen(n.dir, n.recorder, id, n.cpg, tweaks);
  }

  async stop(): Promise<void> {
    for (const n of this.nodes.values()) await n.server.close();
    await rm(this.root, { recursive: true, force: true });
  }

  /** Settles the ring soon (never from inside a delivery). */
  scheduleSettle(): void {
    if (this.settleScheduled || !this.autoSettle) return;
    this.settleScheduled = true;
    setImmediate(() => {
      this.settleScheduled = false;
      this.ring.settle();
      for (const n of this.nodes.values()) n.cpg.pump();
      if (this.ring.queuedFrames() > 0) this.scheduleSettle();
    });
  }

  private async listen(
    dir: string,
    recorder: Recorder,
    id: NodeId,
    cpg: CpgService,
    tweaks: ServerTweaks,
  ): Promise<IpcServer> {
    const server = await IpcServer.listen({
      dir,
      recorder,
      nodeId: id,
      afterInput: () => this.scheduleSettle(),
      ...tweaks,
    });
    server.register(new CpgIpcService(cpg));
    return server;
  }
}
