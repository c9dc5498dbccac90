/**
 * The checkpoint load against a real cluster: owners on every node overwrite (creating when
 * absent) sections of one shared checkpoint with seeded data. Replica check (paused): every
 * node reads back the same sections with the same bytes. Its one invariant beyond that is
 * that no call is stuck (the driver's bound) and none fails but for a lost connection.
 */
import { type CheckpointHandle, Ckpt, CkptError } from '../client/ckpt.js';
import type { NodeId } from '../core/io.js';
import { ErrorCode, TotemError } from '../ipc/errors.js';
import { Prng } from '../sim/prng.js';
import { ClientLoad, type Connection, delay, type LoadFinding } from './cluster-load.js';
import { ownerSeed } from './plock-workload.js';

export interface CkptLoadOptions {
  readonly nodes: readonly NodeId[];
  readonly socket: (node: NodeId) => string;
  readonly seed: number;
  readonly ownersPerNode?: number;
  readonly sections?: number;
  readonly thinkMs?: readonly [number, number];
  readonly clock: () => number;
}

interface CkptClient {
  readonly ckpt: Ckpt;
  handle: Promise<CheckpointHandle> | undefined;
}

export const CKPT_LOAD_NAME = 'revolver-load';
const MAX_DATA = 512;

export class CkptLoad extends ClientLoad<CkptClient> {
  readonly name = 'ckpt';
  private readonly streams = new Map<string, Prng>();
  private readonly sections: number;
  private readonly thinkMs: readonly [number, number];

  constructor(private readonly opts: CkptLoadOptions) {
    super(opts.nodes, opts.ownersPerNode ?? 4, 1, opts.clock);
    this.sections = opts.sections ?? 16;
    this.thinkMs = opts.thinkMs ?? [0, 20];
  }

  protected async connect(node: NodeId, name: string): Promise<CkptClient> {
    const ckpt = await Ckpt.connect({ socket: this.opts.socket(node), name });
    return { ckpt, handle: undefined };
  }

  protected closeClient(client: CkptClient): Promise<void> {
    return client.ckpt.close();
  }

  protected onConnectionLost(): void {
    // Checkpoint data outlives its writers: nothing to end.
  }

  protected async ownerRound(node: NodeId, owner: number, conn: Connection<CkptClient>): Promise<void> {
    const key = `${node}/${owner}`;
    const p = this.stream(key);
    const think = Math.round(p.uniform(this.thinkMs[0], this.thinkMs[1]));
    const section = `s${p.int(this.sections)}`;
    const data = new Uint8Array(1 + p.int(MAX_DATA));
    for (let i = 0; i < data.length; i++) data[i] = p.int(256);
    if (think > 0) await delay(think);
    await this.gate(key);
    if (conn.lost || this.stopped) return;
    try {
      const h = await this.handleOf(conn.client);
      await this.tracked(`ckpt overwrite ${section} on node ${node}`, async () => {
        try {
          await h.overwrite(section, data);
        } catch (err) {
          if (!(err instanceof CkptError && err.aisName === 'NOT_EXIST')) throw err;
          try {
            await h.createSection(section, data);
          } catch (err2) {
            // Another owner created it first: this write is simply lost to that one.
            if (!(err2 instanceof CkptError && err2.aisName === 'EXIST')) throw err2;
          }
        }
      });
      this.completed++;
    } catch (err) {
      if (conn.lost || this.stopped) return;
      if (err instanceof CkptError && err.aisName === 'TRY_AGAIN') return;
      if (gone(err)) {
        if (this.isUp(node)) this.dropConnection(conn);
        return;
      }
      throw err;
    }
  }

  async replicaCheck(timeoutMs: number): Promise<LoadFinding[]> {
    const deadline = this.clock() + timeoutMs;
    for (;;) {
      const conns = await this.liveConnections();
      const views = await Promise.all(
        conns.map((c) => this.contents(c.client).catch((err: Error) => `read failed: ${err.message}`)),
      );
      const distinct = new Set(views);
      if (distinct.size <= 1 && views.every((v) => !v.startsWith('read failed'))) return [];
      if (this.clock() > deadline) {
        const shown = views.map((v, i) => `node ${conns[i]!.node}: ${v.slice(0, 200)}`).join('; ');
        return [{ kind: 'replica', message: `checkpoint replicas differ after ${timeoutMs} ms: ${shown}` }];
      }
      await delay(100);
    }
  }

  private async contents(client: CkptClient): Promise<string> {
    const h = await this.handleOf(client);
    const ids: string[] = [];
    for await (const s of h.sections()) ids.push(s.name);
    ids.sort();
    const data = ids.length > 0 ? await h.readMany(ids.map((id) => ({ id }))) : [];
    return ids
      .map((id, i) => `${id}=${Buffer.from(data[i]!).toString('hex').slice(0, 16)}/${data[i]!.length}`)
      .join(' ');
  }

  private handleOf(client: CkptClient): Promise<CheckpointHandle> {
    if (!client.handle) {
      client.handle = client.ckpt.open(CKPT_LOAD_NAME, {
        create: {
          maxSections: this.sections + 1,
          maxSectionSize: MAX_DATA,
          checkpointSize: (this.sections + 1) * MAX_DATA,
        },
        retry: { attempts: 50 },
      });
      client.handle.catch(() => {
        client.handle = undefined;
      });
    }
    return client.handle;
  }

  private stream(owner: string): Prng {
    let p = this.streams.get(owner);
    if (!p) {
      p = new Prng(ownerSeed(this.opts.seed, owner));
      this.streams.set(owner, p);
    }
    return p;
  }
}

/** The connection (or the handle it carried) is gone: connect again. */
function gone(err: unknown): boolean {
  if (err instanceof CkptError) return err.aisName === 'BAD_HANDLE' || err.aisName === 'LIBRARY';
  return err instanceof TotemError && (err.code === ErrorCode.LIBRARY || err.code === ErrorCode.BAD_HANDLE);
}
