/**
 * The `ckpt` load: simulated checkpoint clients on every node, making random, seeded requests
 * through the service's request/reply API (the calls the IPC binding makes for a real client).
 *
 * Two clients per process:
 * - the owner (client 1) keeps private checkpoints `p<node>-<k>` open and is their only
 *   writer: creates, writes, overwrites and deletes sections, and tracks the exact bytes every
 *   acknowledged change left (`tracked`), which the checks hold the replicas to;
 * - the mixer (client 2) works on shared names `s<k>` with every operation: open/create with
 *   random attributes (which may conflict), close, unlink, section create with given or
 *   generated ids, write, overwrite, delete, read, expiration and retention changes (short ones
 *   expire during the run), iteration, status, synchronize.
 * Section sizes mix empty sections, tiny ones, sizes whose sync SECTION message fills a pg
 * frame exactly (±3 bytes) and multi-frame ones. Each client keeps one request in flight.
 */
import { CONTINUATION_HEADER_BYTES, FRAME_HEADER_BYTES, firstChunkHeaderBytes } from '../../pg/frame.js';
import { CKPT_GROUP } from '../../services/ckpt/ckpt-service.js';
import { sectionKey } from '../../services/ckpt/database.js';
import { AisError } from '../../services/ckpt/errors.js';
import {
  type CkptId,
  type CkptReply,
  type CkptRequest,
  type CreationAttributes,
  CreationFlags,
  OpenFlags,
  SectionsChosen,
  TIME_END,
} from '../../services/ckpt/types.js';
import type { Prng } from '../prng.js';
import type { LoadClient, LoadNode, ServiceLoad } from './load.js';

export const OWNER = 1;
export const MIXER = 2;
const SHARED_NAMES = 4;

/** Bytes of a sync SECTION message besides its section id and data (see ckpt/wire.ts). */
export function sectionMessageOverhead(ckptId: CkptId): number {
  // kind u8, ring rep u32, ring seq u64 · ckptId str · sectionId u16 · expiration f64 · lastUpdate f64 · data u32
  return 1 + 4 + 8 + 2 + Buffer.byteLength(ckptId) + 2 + 8 + 8 + 4;
}

/** The message length that fills a fresh pg frame of group "ckpt" exactly. */
export function freshFrameRoom(frameSize: number): number {
  return frameSize - FRAME_HEADER_BYTES - firstChunkHeaderBytes(Buffer.byteLength(CKPT_GROUP));
}

export interface SizeMix {
  readonly empty: number;
  readonly tiny: number;
  /** Sync message of the section fills a frame exactly, ±3 bytes. */
  readonly frameFill: number;
  readonly large: number;
}

export const DEFAULT_SIZES: SizeMix = { empty: 0.25, tiny: 0.15, frameFill: 0.35, large: 0.05 };

export interface CkptLoadOptions {
  /** Virtual ms between two steps of a node's clients. */
  readonly stepMs?: number;
  readonly sizes?: Partial<SizeMix>;
  /** Largest section data (and the checkpoints' maxSectionSize). */
  readonly maxSectionSize?: number;
  /**
   * The owner's section ids are as long as makes an empty section's sync message fill a fresh
   * pg frame exactly (its last piece, the data, is then an empty piece right at the frame's
   * end: the 2008 shape); frame-filling data then makes whole frames too.
   */
  readonly frameIds?: boolean;
  /** The mixer client (shared checkpoints) runs too (default true). */
  readonly mixer?: boolean;
  /** Private checkpoints per node and sections per private checkpoint (default 2 and 6). */
  readonly privateCheckpoints?: number;
  readonly privateSections?: number;
}

type Req = CkptRequest extends infer R ? (R extends CkptRequest ? Omit<R, 'reqId'> : never) : never;

interface InFlight {
  readonly client: number;
  readonly req: Req;
  readonly issuedAt: number;
  /** Owner: the private checkpoint and section the request is about. */
  readonly name?: string;
  readonly key?: string;
}

interface PrivateCheckpoint {
  readonly name: string;
  handle: number | undefined;
  ckptId: CkptId | undefined;
  /** Section key -> bytes every acknowledged change left (absent: not tracked). */
  readonly tracked: Map<string, Uint8Array>;
}

interface SharedHandle {
  readonly name: string;
  readonly handle: number;
  readonly flags: number;
  closing: boolean;
}

const text = new TextEncoder();

export class CkptClient implements LoadClient {
  private nextReq = 1;
  private readonly inflight = new Map<number, InFlight>();
  private readonly busy = new Set<number>();
  readonly privates: PrivateCheckpoint[] = [];
  private readonly shared: SharedHandle[] = [];
  private readonly iterations: number[] = [];
  private readonly counts: Record<string, number> = {
    requests: 0,
    replies: 0,
    ok: 0,
    tryAgain: 0,
    ackedWrites: 0,
    emptySections: 0,
    frameFillSections: 0,
  };
  private readonly sizes: SizeMix;

  constructor(
    private readonly node: LoadNode,
    private readonly opts: CkptLoadOptions,
  ) {
    this.sizes = { ...DEFAULT_SIZES, ...opts.sizes };
    for (let k = 0; k < (opts.privateCheckpoints ?? 2); k++)
      this.privates.push({
        name: `p${node.nodeId}-${k}`,
        handle: undefined,
        ckptId: undefined,
        tracked: new Map(),
      });
  }

  get prng(): Prng {
    return this.node.prng;
  }

  /** Requests issued and not answered yet, with the time each was issued. */
  outstanding(): { client: number; kind: string; issuedAt: number }[] {
    return [...this.inflight.values()].map((f) => ({
      client: f.client,
      kind: f.req.kind,
      issuedAt: f.issuedAt,
    }));
  }

  step(now: number): void {
    if (!this.node.active()) return;
    if (!this.busy.has(OWNER)) this.ownerStep(now);
    if (!this.busy.has(MIXER) && this.opts.mixer !== false) this.mixerStep(now);
  }

  counters(): Readonly<Record<string, number>> {
    return this.counts;
  }

  describe(): string {
    const tracked = this.privates.reduce((n, p) => n + p.tracked.size, 0);
    return `ckpt clients: ${this.inflight.size} in flight, ${this.shared.length} shared handles, ${tracked} tracked sections`;
  }

  // ---- issuing --------------------------------------------------------------------------

  private issue(client: number, now: number, req: Req, name?: string, key?: string): void {
    const reqId = this.nextReq++;
    this.inflight.set(reqId, {
      client,
      req,
      issuedAt: now,
      ...(name ? { name } : {}),
      ...(key ? { key } : {}),
    });
    this.busy.add(client);
    this.counts.requests!++;
    // The reply may come back inside this call (local errors, reads).
    this.node.stack.ckpt.request(client, { ...req, reqId } as CkptRequest, now);
  }

  private sectionData(ckptId: CkptId, idLength: number): Uint8Array {
    const p = this.prng;
    const mix = this.sizes;
    const max = this.opts.maxSectionSize ?? 8192;
    let x = p.float();
    let n: number;
    if ((x -= mix.empty) < 0) n = 0;
    else if ((x -= mix.tiny) < 0) n = p.range(1, 16);
    else if ((x -= mix.frameFill) < 0) {
      // The sync SECTION message fills a fresh frame exactly (or 1..3 whole frames more), ±3.
      const room = freshFrameRoom(this.node.stack.pg.frameSize) - sectionMessageOverhead(ckptId) - idLength;
      const perFrame = this.node.stack.pg.frameSize - FRAME_HEADER_BYTES - CONTINUATION_HEADER_BYTES;
      n = room + (p.chance(0.7) ? 0 : p.range(1, 3) * perFrame) + (p.chance(0.6) ? 0 : p.range(-3, 3));
      this.counts.frameFillSections!++;
    } else if ((x -= mix.large) < 0) n = p.range(1024, max);
    else n = p.range(17, 600);
    n = Math.max(0, Math.min(n, max));
    if (n === 0) this.counts.emptySections!++;
    const b = new Uint8Array(n);
    const fill = p.u32();
    for (let i = 0; i < n; i++) b[i] = (fill + i * 131) & 0xff;
    return b;
  }

  private attributes(maxSections: number, retention: number, idSize: number): CreationAttributes {
    const max = this.opts.maxSectionSize ?? 8192;
    return {
      creationFlags: CreationFlags.WrActiveReplica,
      checkpointSize: maxSections * max,
      retentionDuration: retention,
      maxSections,
      maxSectionSize: max,
      maxSectionIdSize: idSize,
    };
  }

  private ownerSectionId(j: number, ckptId: CkptId): Uint8Array {
    if (!this.opts.frameIds) return text.encode(`s${j}`);
    const id = new Uint8Array(freshFrameRoom(this.node.stack.pg.frameSize) - sectionMessageOverhead(ckptId));
    id.fill(0x61 + j);
    return id;
  }

  // ---- the owner ------------------------------------------------------------------------

  private ownerStep(now: number): void {
    const p = this.prng;
    const priv = p.pick(this.privates);
    const sections = this.opts.privateSections ?? 6;
    if (priv.handle === undefined) {
      const idSize = this.opts.frameIds ? freshFrameRoom(this.node.stack.pg.frameSize) : 16;
      this.issue(
        OWNER,
        now,
        {
          kind: 'open',
          name: priv.name,
          flags: OpenFlags.Read | OpenFlags.Write | OpenFlags.Create,
          attributes: this.attributes(sections + 2, TIME_END, idSize),
        },
        priv.name,
      );
      return;
    }
    const ckptId = priv.ckptId!;
    const id = this.ownerSectionId(p.int(sections), ckptId);
    const key = sectionKey(id);
    const handle = priv.handle;
    const r = p.float();
    if (r < 0.3) {
      const data = this.sectionData(ckptId, id.length);
      this.issue(
        OWNER,
        now,
        { kind: 'sectionCreate', handle, sectionId: id, expirationTime: TIME_END, initialData: data },
        priv.name,
        key,
      );
    } else if (r < 0.6) {
      this.issue(
        OWNER,
        now,
        { kind: 'overwrite', handle, sectionId: id, data: this.sectionData(ckptId, id.length) },
        priv.name,
        key,
      );
    } else if (r < 0.85) {
      const known = priv.tracked.get(key);
      const offset = p.range(0, known ? known.length : 32);
      const data = this.sectionData(ckptId, id.length).subarray(0, p.range(0, 64));
      this.issue(
        OWNER,
        now,
        { kind: 'write', handle, elements: [{ sectionId: id, offset, data }] },
        priv.name,
        key,
      );
    } else if (r < 0.95) {
      this.issue(OWNER, now, { kind: 'sectionDelete', handle, sectionId: id }, priv.name, key);
    } else {
      this.issue(OWNER, now, {
        kind: 'read',
        handle,
        elements: [{ sectionId: id, offset: 0, size: 1 << 16 }],
      });
    }
  }

  private ownerReply(f: InFlight, reply: CkptReply): void {
    const priv = this.privates.find((x) => x.name === f.name);
    if (!priv) return;
    const ok = reply.error === undefined;
    const req = f.req;
    if (req.kind === 'open') {
      if (ok && reply.handle !== undefined) {
        priv.handle = reply.handle;
        // Applied just now, so this node's replica holds it under its name.
        priv.ckptId = this.node.stack.ckpt.database.linked.get(priv.name)?.id;
        priv.tracked.clear();
      }
      return;
    }
    const key = f.key!;
    const code = reply.error?.code;
    // A failure applied nowhere (refused before the ring) or applied everywhere with that result
    // leaves the bytes as they were; TRY_AGAIN from a dropped round may have applied elsewhere.
    if (!ok) {
      if (code === AisError.TRY_AGAIN || code === AisError.BAD_HANDLE) priv.tracked.delete(key);
      if (code === AisError.BAD_HANDLE) {
        priv.handle = undefined;
        priv.tracked.clear();
      }
      return;
    }
    this.counts.ackedWrites!++;
    switch (req.kind) {
      case 'sectionCreate':
        priv.tracked.set(key, req.initialData.slice());
        return;
      case 'overwrite':
        priv.tracked.set(key, req.data.slice());
        return;
      case 'write': {
        const known = priv.tracked.get(key);
        if (!known) return;
        const e = req.elements[0]!;
        const end = e.offset + e.data.length;
        const next = new Uint8Array(Math.max(end, known.length));
        next.set(known);
        next.set(e.data, e.offset);
        priv.tracked.set(key, next);
        return;
      }
      case 'sectionDelete':
        priv.tracked.delete(key);
        return;
      default:
        return;
    }
  }

  // ---- the mixer ------------------------------------------------------------------------

  private mixerStep(now: number): void {
    const p = this.prng;
    const open = this.shared.filter((h) => !h.closing);
    if (open.length === 0 || p.chance(0.1)) {
      const name = `s${p.int(SHARED_NAMES)}`;
      const create = p.chance(0.7);
      const flags = OpenFlags.Read | (p.chance(0.85) ? OpenFlags.Write : 0) | (create ? OpenFlags.Create : 0);
      const modes = [
        CreationFlags.WrAllReplicas,
        CreationFlags.WrActiveReplica,
        CreationFlags.WrActiveReplicaWeak,
      ];
      const attrs = {
        ...this.attributes(p.pick([1, 3, 8]), p.chance(0.5) ? TIME_END : p.range(50, 1500), p.pick([8, 32])),
        creationFlags: p.pick(modes) | (p.chance(0.2) ? CreationFlags.Collocated : 0),
      };
      this.issue(MIXER, now, { kind: 'open', name, flags, ...(create ? { attributes: attrs } : {}) }, name);
      return;
    }
    if (this.iterations.length > 0 && p.chance(0.3)) {
      const iteration = this.iterations[0]!;
      if (p.chance(0.3)) {
        this.iterations.shift();
        this.issue(MIXER, now, { kind: 'iterationFinalize', iteration });
      } else this.issue(MIXER, now, { kind: 'iterationNext', iteration });
      return;
    }
    const h = p.pick(open);
    const handle = h.handle;
    const id = p.chance(0.2) ? undefined : text.encode(`m${p.int(6)}`);
    const sid = id ?? text.encode(`m${p.int(6)}`);
    const ckptId = this.node.stack.ckpt.database.linked.get(h.name)?.id ?? '0.0.0';
    const r = p.float();
    if (r < 0.08) {
      h.closing = true;
      this.issue(MIXER, now, { kind: 'close', handle }, h.name);
    } else if (r < 0.12) {
      this.issue(MIXER, now, { kind: 'unlink', name: h.name });
    } else if (r < 0.32) {
      const expirationTime = p.chance(0.6) ? TIME_END : now + p.range(20, 1500);
      this.issue(MIXER, now, {
        kind: 'sectionCreate',
        handle,
        ...(id ? { sectionId: id } : {}),
        expirationTime,
        initialData: this.sectionData(ckptId, id?.length ?? 4),
      });
    } else if (r < 0.47) {
      this.issue(MIXER, now, {
        kind: 'overwrite',
        handle,
        sectionId: sid,
        data: this.sectionData(ckptId, sid.length),
      });
    } else if (r < 0.6) {
      const data = this.sectionData(ckptId, sid.length).subarray(0, p.range(0, 200));
      this.issue(MIXER, now, {
        kind: 'write',
        handle,
        elements: [{ sectionId: sid, offset: p.range(0, 300), data }],
      });
    } else if (r < 0.68) {
      this.issue(MIXER, now, { kind: 'sectionDelete', handle, sectionId: sid });
    } else if (r < 0.75) {
      const expirationTime = p.chance(0.5) ? TIME_END : now + p.range(20, 1500);
      this.issue(MIXER, now, { kind: 'expirationTimeSet', handle, sectionId: sid, expirationTime });
    } else if (r < 0.8) {
      this.issue(MIXER, now, {
        kind: 'retentionDurationSet',
        handle,
        duration: p.chance(0.5) ? TIME_END : p.range(50, 1500),
      });
    } else if (r < 0.88) {
      this.issue(MIXER, now, { kind: 'read', handle, elements: [{ sectionId: sid, offset: 0, size: 4096 }] });
    } else if (r < 0.93) {
      this.issue(MIXER, now, {
        kind: 'iterationInitialize',
        handle,
        sectionsChosen: SectionsChosen.Any,
        expirationTime: 0,
      });
    } else if (r < 0.97) {
      this.issue(MIXER, now, { kind: 'status', handle });
    } else {
      this.issue(MIXER, now, { kind: 'synchronize', handle });
    }
  }

  private mixerReply(f: InFlight, reply: CkptReply): void {
    const req = f.req;
    const ok = reply.error === undefined;
    if (req.kind === 'open' && ok && reply.handle !== undefined) {
      this.shared.push({ name: f.name!, handle: reply.handle, flags: req.flags, closing: false });
    } else if (req.kind === 'close') {
      const i = this.shared.findIndex((h) => h.handle === req.handle);
      if (i >= 0) {
        if (ok || reply.error?.code === AisError.BAD_HANDLE) this.shared.splice(i, 1);
        else this.shared[i]!.closing = false;
      }
    } else if (req.kind === 'iterationInitialize' && ok && reply.iteration !== undefined) {
      this.iterations.push(reply.iteration);
    } else if (reply.error?.code === AisError.BAD_HANDLE && 'handle' in req) {
      const i = this.shared.findIndex((h) => h.handle === req.handle);
      if (i >= 0) this.shared.splice(i, 1);
    } else if (req.kind === 'iterationNext' && reply.error !== undefined) {
      const i = this.iterations.indexOf(req.iteration);
      if (i >= 0) this.iterations.splice(i, 1);
    }
  }

  // ---- replies --------------------------------------------------------------------------

  ckptReply(reply: CkptReply): void {
    const f = this.inflight.get(reply.reqId);
    if (!f)
      throw new Error(
        `ckpt reply to unknown request ${reply.reqId} (${reply.kind}) of client ${reply.client}`,
      );
    if (f.req.kind !== reply.kind)
      throw new Error(`ckpt reply ${reply.kind} to a ${f.req.kind} request ${reply.reqId}`);
    this.inflight.delete(reply.reqId);
    this.busy.delete(reply.client);
    this.counts.replies!++;
    if (reply.error === undefined) this.counts.ok!++;
    else if (reply.error.code === AisError.TRY_AGAIN) this.counts.tryAgain!++;
    if (reply.client === OWNER) this.ownerReply(f, reply);
    else this.mixerReply(f, reply);
  }

  /** The node's replica no longer holds what the owner was told: forget it (a lost merge). */
  forgetPrivate(ckptId: CkptId): number {
    let n = 0;
    for (const p of this.privates)
      if (p.ckptId === ckptId) {
        n += p.tracked.size;
        p.tracked.clear();
      }
    return n;
  }
}

export function ckptLoadParts(opts: CkptLoadOptions = {}): Pick<ServiceLoad, 'stepMs' | 'attach'> {
  return { stepMs: opts.stepMs ?? 20, attach: (node) => new CkptClient(node, opts) };
}
