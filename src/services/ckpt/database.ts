/**
 * The replicated checkpoint database and the deterministic application of ordered updates.
 *
 * Every replica applies the same updates in the same (ring) order, so every replica holds the
 * same database. Nothing here reads a clock: times come inside the updates (the originator's
 * `now`), so an update means the same thing everywhere.
 */

import type { NodeId, RingId } from '../../core/io.js';
import { AisError, type AisErrorCode } from './errors.js';
import { type CkptId, type CreationAttributes, OpenFlags, TIME_END } from './types.js';

export interface Section {
  readonly id: Uint8Array;
  data: Uint8Array;
  expiration: number;
  lastUpdate: number;
}

export interface Checkpoint {
  readonly id: CkptId;
  readonly name: string;
  attributes: CreationAttributes;
  unlinked: boolean;
  /** Keyed by sectionKey(id). */
  readonly sections: Map<string, Section>;
  /** Open handles per node. */
  readonly refcounts: Map<NodeId, number>;
  /** Bytes of section data, kept up to date by every change (checked against checkpointSize). */
  used: number;
  /** Next candidate for a generated section id. */
  nextGeneratedId: number;
  /** Bumped by every applied update to this checkpoint; an expiry is valid only for the version it saw. */
  version: number;
  /** When the last reference went away (originator time of that update); undefined while referenced. */
  unreferencedSince: number | undefined;
}

/** Updates as ordered through the ring. `origin`/`seq` identify the request; `time` is the originator's clock. */
export type Update =
  | { op: 'open'; name: string; flags: number; attributes: CreationAttributes | undefined }
  | { op: 'close'; ckptId: CkptId }
  | { op: 'unlink'; name: string }
  | { op: 'retentionDurationSet'; ckptId: CkptId; duration: number }
  | {
      op: 'sectionCreate';
      ckptId: CkptId;
      sectionId: Uint8Array | undefined;
      expiration: number;
      data: Uint8Array;
    }
  | { op: 'sectionDelete'; ckptId: CkptId; sectionId: Uint8Array }
  | { op: 'write'; ckptId: CkptId; elements: { sectionId: Uint8Array; offset: number; data: Uint8Array }[] }
  | { op: 'overwrite'; ckptId: CkptId; sectionId: Uint8Array; data: Uint8Array }
  | { op: 'expirationTimeSet'; ckptId: CkptId; sectionId: Uint8Array; expiration: number }
  | { op: 'synchronize'; ckptId: CkptId }
  | { op: 'expireRetention'; ckptId: CkptId; version: number }
  | { op: 'expireSection'; ckptId: CkptId; sectionId: Uint8Array; expiration: number };

export interface UpdateEnvelope {
  readonly origin: NodeId;
  readonly seq: number;
  readonly incarnation: number;
  readonly time: number;
  /**
   * The ring the originator sent it in. Updates are applied only in that ring: one ordered in
   * a later ring may be a message pg delivers to only some of its members (one whose first
   * fragments were ordered before a merge: the joiners never saw them).
   */
  readonly ringId: RingId;
  readonly update: Update;
}

export interface ApplyResult {
  readonly code: AisErrorCode;
  readonly ckptId?: CkptId;
  readonly sectionId?: Uint8Array;
  readonly errorIndex?: number;
}

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
export const sectionKey = hex;

export function sameAttributesExceptRetention(a: CreationAttributes, b: CreationAttributes): boolean {
  return (
    a.creationFlags === b.creationFlags &&
    a.checkpointSize === b.checkpointSize &&
    a.maxSections === b.maxSections &&
    a.maxSectionSize === b.maxSectionSize &&
    a.maxSectionIdSize === b.maxSectionIdSize
  );
}

export function totalRefs(c: Checkpoint): number {
  let n = 0;
  for (const v of c.refcounts.values()) n += v;
  return n;
}

export function memoryUsed(c: Checkpoint): number {
  return c.used;
}

export function ckptIdOf(env: UpdateEnvelope): CkptId {
  return `${env.origin}.${env.incarnation}.${env.seq}`;
}

const ok = (extra: Omit<ApplyResult, 'code'> = {}): ApplyResult => ({ code: AisError.OK, ...extra });
const fail = (code: AisErrorCode, errorIndex?: number): ApplyResult =>
  errorIndex === undefined ? { code } : { code, errorIndex };

export class CkptDatabase {
  /** Every checkpoint, linked or not, by id. */
  readonly byId = new Map<CkptId, Checkpoint>();
  /** Linked checkpoints by name (at most one per name). */
  readonly linked = new Map<string, Checkpoint>();

  add(c: Checkpoint): void {
    this.byId.set(c.id, c);
    if (!c.unlinked) this.linked.set(c.name, c);
  }

  remove(c: Checkpoint): void {
    this.byId.delete(c.id);
    if (this.linked.get(c.name) === c) this.linked.delete(c.name);
  }

  apply(env: UpdateEnvelope): ApplyResult {
    const u = env.update;
    switch (u.op) {
      case 'open':
        return this.open(env, u.name, u.flags, u.attributes);
      case 'close':
        return this.close(env, u.ckptId);
      case 'unlink': {
        const c = this.linked.get(u.name);
        if (!c) return fail(AisError.NOT_EXIST);
        this.linked.delete(u.name);
        c.unlinked = true;
        c.version++;
        if (totalRefs(c) === 0) this.byId.delete(c.id);
        return ok();
      }
      case 'retentionDurationSet': {
        const c = this.byId.get(u.ckptId);
        if (!c || c.unlinked) return fail(AisError.BAD_OPERATION);
        c.attributes = { ...c.attributes, retentionDuration: u.duration };
        c.version++;
        return ok();
      }
      case 'sectionCreate':
        return this.sectionCreate(env, u.ckptId, u.sectionId, u.expiration, u.data);
      case 'sectionDelete': {
        const c = this.byId.get(u.ckptId);
        if (!c) return fail(AisError.NOT_EXIST);
        if (u.sectionId.length === 0) return fail(AisError.INVALID_PARAM);
        const key = sectionKey(u.sectionId);
        const s = c.sections.get(key);
        if (!s) return fail(AisError.NOT_EXIST);
        c.sections.delete(key);
        c.used -= s.data.length;
        c.version++;
        return ok();
      }
      case 'write':
        return this.write(env, u.ckptId, u.elements);
      case 'overwrite': {
        const c = this.byId.get(u.ckptId);
        if (!c) return fail(AisError.NOT_EXIST);
        const s = c.sections.get(sectionKey(u.sectionId));
        if (!s) return fail(AisError.NOT_EXIST);
        if (u.data.length > c.attributes.maxSectionSize) return fail(AisError.TOO_BIG);
        if (memoryUsed(c) - s.data.length + u.data.length > c.attributes.checkpointSize) {
          return fail(AisError.NO_SPACE);
        }
        c.used += u.data.length - s.data.length;
        s.data = u.data.slice();
        s.lastUpdate = env.time;
        c.version++;
        return ok();
      }
      case 'expirationTimeSet': {
        const c = this.byId.get(u.ckptId);
        if (!c) return fail(AisError.NOT_EXIST);
        if (u.sectionId.length === 0) return fail(AisError.INVALID_PARAM);
        const s = c.sections.get(sectionKey(u.sectionId));
        if (!s) return fail(AisError.NOT_EXIST);
        s.expiration = u.expiration;
        c.version++;
        return ok();
      }
      case 'synchronize': {
        const c = this.byId.get(u.ckptId);
        if (!c) return fail(AisError.NOT_EXIST);
        // Synchronous checkpoints are always in step; AIS makes synchronize a bad operation on them.
        if (c.attributes.creationFlags & 0x1) return fail(AisError.BAD_OPERATION);
        return ok();
      }
      case 'expireRetention': {
        const c = this.byId.get(u.ckptId);
        if (!c || c.unlinked || c.version !== u.version || totalRefs(c) !== 0)
          return fail(AisError.NOT_EXIST);
        this.remove(c);
        return ok();
      }
      case 'expireSection': {
        const c = this.byId.get(u.ckptId);
        const key = sectionKey(u.sectionId);
        const s = c?.sections.get(key);
        if (!c || !s || s.expiration !== u.expiration) return fail(AisError.NOT_EXIST);
        c.sections.delete(key);
        c.used -= s.data.length;
        c.version++;
        return ok();
      }
    }
  }

  private open(
    env: UpdateEnvelope,
    name: string,
    flags: number,
    attributes: CreationAttributes | undefined,
  ): ApplyResult {
    let c = this.linked.get(name);
    if (!c) {
      if (!(flags & OpenFlags.Create) || !attributes) return fail(AisError.NOT_EXIST);
      c = {
        id: ckptIdOf(env),
        name,
        attributes,
        unlinked: false,
        sections: new Map(),
        refcounts: new Map(),
        used: 0,
        nextGeneratedId: 0,
        version: 0,
        unreferencedSince: undefined,
      };
      if (attributes.maxSections === 1) {
        const id = new Uint8Array(0);
        c.sections.set(sectionKey(id), {
          id,
          data: new Uint8Array(0),
          expiration: TIME_END,
          lastUpdate: env.time,
        });
      }
      this.add(c);
    } else if (attributes && !sameAttributesExceptRetention(attributes, c.attributes)) {
      return fail(AisError.EXIST);
    }
    c.refcounts.set(env.origin, (c.refcounts.get(env.origin) ?? 0) + 1);
    c.unreferencedSince = undefined;
    c.version++;
    return ok({ ckptId: c.id });
  }

  private close(env: UpdateEnvelope, ckptId: CkptId): ApplyResult {
    const c = this.byId.get(ckptId);
    const mine = c?.refcounts.get(env.origin) ?? 0;
    if (!c || mine === 0) return fail(AisError.BAD_HANDLE);
    if (mine === 1) c.refcounts.delete(env.origin);
    else c.refcounts.set(env.origin, mine - 1);
    c.version++;
    if (totalRefs(c) === 0) {
      if (c.unlinked) this.byId.delete(c.id);
      else c.unreferencedSince = env.time;
    }
    return ok();
  }

  private sectionCreate(
    env: UpdateEnvelope,
    ckptId: CkptId,
    given: Uint8Array | undefined,
    expiration: number,
    data: Uint8Array,
  ): ApplyResult {
    const c = this.byId.get(ckptId);
    if (!c) return fail(AisError.NOT_EXIST);
    const a = c.attributes;
    if (a.maxSections === 1) return fail(AisError.EXIST);
    if (c.sections.size >= a.maxSections) return fail(AisError.NO_SPACE);
    if (given && given.length > a.maxSectionIdSize) return fail(AisError.INVALID_PARAM);
    if (data.length > a.maxSectionSize) return fail(AisError.INVALID_PARAM);
    if (memoryUsed(c) + data.length > a.checkpointSize) return fail(AisError.NO_SPACE);
    let id = given;
    if (id) {
      if (id.length === 0) return fail(AisError.INVALID_PARAM);
      if (c.sections.has(sectionKey(id))) return fail(AisError.EXIST);
    } else {
      // Generated ids: 4 bytes, big-endian counter, skipping any a client already used.
      do {
        id = new Uint8Array(4);
        new DataView(id.buffer).setUint32(0, c.nextGeneratedId, false);
        c.nextGeneratedId = (c.nextGeneratedId + 1) >>> 0;
      } while (c.sections.has(sectionKey(id)));
    }
    c.sections.set(sectionKey(id), { id: id.slice(), data: data.slice(), expiration, lastUpdate: env.time });
    c.used += data.length;
    c.version++;
    return ok({ sectionId: id.slice() });
  }

  private write(
    env: UpdateEnvelope,
    ckptId: CkptId,
    elements: readonly { sectionId: Uint8Array; offset: number; data: Uint8Array }[],
  ): ApplyResult {
    const c = this.byId.get(ckptId);
    if (!c) return fail(AisError.NOT_EXIST, 0);
    // Like the AIS library, elements are applied in order and the first failing one stops the rest.
    for (let i = 0; i < elements.length; i++) {
      const e = elements[i]!;
      const s = c.sections.get(sectionKey(e.sectionId));
      if (!s) return fail(AisError.NOT_EXIST, i);
      const end = e.offset + e.data.length;
      if (end > c.attributes.maxSectionSize) return fail(AisError.TOO_BIG, i);
      const grown = Math.max(end, s.data.length);
      if (memoryUsed(c) - s.data.length + grown > c.attributes.checkpointSize)
        return fail(AisError.NO_SPACE, i);
      c.used += grown - s.data.length;
      if (grown > s.data.length) {
        const bigger = new Uint8Array(grown);
        bigger.set(s.data);
        s.data = bigger;
      }
      s.data.set(e.data, e.offset);
      s.lastUpdate = env.time;
      c.version++;
    }
    return ok();
  }

  /** A canonical, comparable description of the whole database (tests compare replicas with it). */
  dump(): string {
    const ids = [...this.byId.keys()].sort();
    const out = ids.map((id) => {
      const c = this.byId.get(id)!;
      const sections = [...c.sections.entries()]
        .sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0))
        .map(([k, s]) => `${k}=${hex(s.data)}@${s.expiration}/${s.lastUpdate}`);
      const refs = [...c.refcounts.entries()].sort((x, y) => x[0] - y[0]).map(([n, v]) => `${n}:${v}`);
      return `${id} ${JSON.stringify(c.name)} ${c.unlinked ? 'unlinked' : 'linked'} v${c.version} g${c.nextGeneratedId} ${JSON.stringify(c.attributes)} refs[${refs}] since=${c.unreferencedSince} {${sections.join(' ')}}`;
    });
    const names = [...this.linked.entries()].sort().map(([n, c]) => `${n}->${c.id}`);
    return `${out.join('\n')}\nlinked: ${names.join(', ')}`;
  }
}
