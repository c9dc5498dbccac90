/** Shared test scaffolding for pg: a loopback cluster whose members record what they deliver. */

import { type Configuration, Guarantee, type NodeId } from '../../src/core/io.js';
import { PACKER_FAULTS, type PackerFaults } from '../../src/pg/internal-faults.js';
import { type LoopbackOptions, LoopbackRing } from '../../src/pg/loopback-ordered-channel.js';
import { ProcessGroups, type SendResult } from '../../src/pg/process-groups.js';
import { Recorder } from '../../src/recorder/recorder.js';

export interface Delivery {
  readonly group: string;
  readonly sender: NodeId;
  readonly bytes: Uint8Array;
  readonly guarantee: Guarantee;
}

export interface Member {
  readonly id: NodeId;
  readonly pg: ProcessGroups;
  readonly recorder: Recorder;
  readonly deliveries: Delivery[];
  readonly confs: Configuration[];
}

export interface Sent {
  readonly sender: NodeId;
  readonly group: string;
  readonly pieces: readonly Uint8Array[];
  readonly bytes: Uint8Array;
  readonly guarantee: Guarantee;
  readonly msgId: number;
}

export interface ClusterOptions {
  readonly members: readonly NodeId[];
  readonly frameSize?: number;
  readonly queueCapacity?: number;
  readonly maxPackedChunks?: number;
  readonly maxMessageSize?: number;
  readonly faults?: PackerFaults;
  readonly tamper?: LoopbackOptions['tamper'];
  readonly groups?: readonly string[];
  readonly recorderSlots?: number;
}

export const GROUPS = ['a', 'sync', 'group-three'] as const;

export class Cluster {
  readonly ring: LoopbackRing;
  readonly members = new Map<NodeId, Member>();
  readonly sent: Sent[] = [];

  constructor(private readonly opts: ClusterOptions) {
    this.ring = new LoopbackRing({
      members: opts.members,
      queueCapacity: opts.queueCapacity ?? 4096,
      maxPayload: opts.frameSize ?? 1324,
      ...(opts.tamper ? { tamper: opts.tamper } : {}),
    });
    for (const id of opts.members) this.addMember(id);
  }

  addMember(id: NodeId): Member {
    const recorder = new Recorder({ slots: this.opts.recorderSlots ?? 256, virtualClock: true, nodeId: id });
    const pg = new ProcessGroups({
      channel: this.ring.channel(id),
      recorder,
      nodeId: id,
      ...(this.opts.frameSize !== undefined ? { frameSize: this.opts.frameSize } : {}),
      ...(this.opts.maxPackedChunks !== undefined ? { maxPackedChunks: this.opts.maxPackedChunks } : {}),
      ...(this.opts.maxMessageSize !== undefined ? { maxMessageSize: this.opts.maxMessageSize } : {}),
      ...(this.opts.faults ? { [PACKER_FAULTS]: this.opts.faults } : {}),
    });
    const member: Member = { id, pg, recorder, deliveries: [], confs: [] };
    const decoder = new TextDecoder();
    const listener = {
      deliver(group: Uint8Array, sender: NodeId, message: Uint8Array, guarantee: Guarantee) {
        member.deliveries.push({ group: decoder.decode(group), sender, bytes: message, guarantee });
      },
      configurationChange(conf: Configuration) {
        member.confs.push(conf);
      },
    };
    for (const g of this.opts.groups ?? GROUPS) pg.join(g, listener);
    this.ring.attach(id, pg);
    this.members.set(id, member);
    return member;
  }

  member(id: NodeId): Member {
    const m = this.members.get(id);
    if (!m) throw new Error(`no member ${id}`);
    return m;
  }

  send(
    sender: NodeId,
    group: string,
    pieces: readonly Uint8Array[],
    guarantee: Guarantee = Guarantee.Agreed,
  ): SendResult {
    const result = this.member(sender).pg.send(group, pieces, guarantee);
    if (result.kind === 'ok') {
      this.sent.push({ sender, group, pieces, bytes: concat(pieces), guarantee, msgId: result.msgId });
    }
    return result;
  }

  /** Sends, rotating the ring while the sender is told to try again (bounded). */
  sendEventually(
    sender: NodeId,
    group: string,
    pieces: readonly Uint8Array[],
    guarantee: Guarantee = Guarantee.Agreed,
  ): void {
    for (let i = 0; i < 1000; i++) {
      const r = this.send(sender, group, pieces, guarantee);
      if (r.kind === 'ok') return;
      if (r.kind !== 'try-again') throw new Error(`send refused: ${r.kind}`);
      this.ring.rotate();
    }
    throw new Error('send never accepted');
  }

  removeMembers(leavers: readonly NodeId[]): void {
    const next = this.ring.currentMembers.filter((m) => !leavers.includes(m));
    this.ring.reconfigure(next);
    for (const l of leavers) this.members.delete(l);
  }
}

export function concat(pieces: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const p of pieces) total += p.length;
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of pieces) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Pieces of the given sizes whose bytes identify the message and the offset in it. */
export function makePieces(sizes: readonly number[], tag: number): Uint8Array[] {
  let offset = 0;
  return sizes.map((size) => {
    const p = new Uint8Array(size);
    for (let i = 0; i < size; i++) p[i] = (tag * 131 + (offset + i) * 7 + ((offset + i) >> 8)) & 0xff;
    offset += size;
    return p;
  });
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Compares what `member` delivered from each sender with what was sent. Returns a list of
 * human-readable problems (empty when the member delivered exactly the sent messages, in order).
 */
export function deliveryProblems(
  member: Member,
  sent: readonly Sent[],
  senders: readonly NodeId[] = [...new Set(sent.map((s) => s.sender))],
): string[] {
  const problems: string[] = [];
  for (const sender of senders) {
    const want = sent.filter((s) => s.sender === sender);
    const got = member.deliveries.filter((d) => d.sender === sender);
    if (got.length !== want.length) {
      problems.push(`node ${member.id}: from ${sender} got ${got.length} messages, sent ${want.length}`);
    }
    const n = Math.min(got.length, want.length);
    for (let i = 0; i < n; i++) {
      const g = got[i]!;
      const w = want[i]!;
      if (g.group !== w.group || g.guarantee !== w.guarantee || !bytesEqual(g.bytes, w.bytes)) {
        problems.push(
          `node ${member.id}: from ${sender} message ${i} differs (got ${g.bytes.length} B in '${g.group}', sent ${w.bytes.length} B in '${w.group}')`,
        );
        break;
      }
    }
  }
  return problems;
}

/** Whether `got` (per sender) is a subsequence of `sent`, by content and group. */
export function isSubsequence(got: readonly Delivery[], sent: readonly Sent[]): boolean {
  let j = 0;
  for (const g of got) {
    while (j < sent.length && !(sent[j]!.group === g.group && bytesEqual(sent[j]!.bytes, g.bytes))) j++;
    if (j === sent.length) return false;
    j++;
  }
  return true;
}

/** Delivery sequences of two members are the same (sender, group, bytes) list. */
export function sameSequence(a: readonly Delivery[], b: readonly Delivery[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x.sender !== y.sender || x.group !== y.group || !bytesEqual(x.bytes, y.bytes)) return false;
  }
  return true;
}
