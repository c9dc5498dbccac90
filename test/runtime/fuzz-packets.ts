/**
 * Packets for fuzzing a running daemon: random bytes, broken envelopes, and Totem messages
 * that are well formed, mutated or forged. Deterministic from a seed. Not a test file.
 *
 * Plain mode (no cipher): nothing is authenticated, so a well-formed packet claiming a
 * configured node from that node's address is accepted by the transport and reaches srp;
 * the daemon must survive it, and the ring must come back whole once the flood stops.
 * Sealed mode: every packet here is either garbage or tampered, so none may get past the
 * envelope (no srp decode error, no configuration change may come from them).
 */

import type { NodeId } from '../../src/core/io.js';
import { totemCodec } from '../../src/srp/codec.js';
import { MessageType, type SrpMessage } from '../../src/srp/messages.js';
import { type CipherName, Envelope } from '../../src/transport/crypto.js';

export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface FuzzOptions {
  readonly seed: number;
  readonly nodes: readonly NodeId[];
  /**
   * Only packets that cannot decode into a Totem message: random bytes, and plain envelopes
   * around random bodies (half of them behind a valid srp magic and version).
   */
  readonly garbageOnly?: boolean;
  readonly sealed?: {
    readonly cipher: Exclude<CipherName, 'none'>;
    readonly key: Uint8Array;
    readonly clusterName: string;
  };
}

const POOL = 2048;

export class PacketFuzzer {
  readonly counts: Record<string, number> = {};
  private readonly rnd: () => number;
  /** Well-formed packets (envelope included) to mutate; built once, so that the flood is cheap. */
  private readonly pool: Uint8Array[] = [];
  private readonly sealed: boolean;

  constructor(private readonly opts: FuzzOptions) {
    this.rnd = prng(opts.seed);
    this.sealed = opts.sealed !== undefined;
    const envelopes = new Map<NodeId, Envelope>();
    const envelopeFor = (n: NodeId): Envelope => {
      let e = envelopes.get(n);
      if (!e) {
        e = opts.sealed ? Envelope.sealed({ ...opts.sealed, localNodeId: n }) : Envelope.plain(n);
        envelopes.set(n, e);
      }
      return e;
    };
    for (let i = 0; i < POOL; i++) {
      const sender = this.pick(opts.nodes);
      // Copies: seal may return a Buffer that shares memory, and mutations must not reach the pool.
      this.pool.push(Uint8Array.from(envelopeFor(sender).seal(totemCodec.encode(this.message(sender)))));
    }
    if (opts.sealed) {
      // Sealed by the right sender but with another key or cluster name: must not authenticate.
      const other = new Uint8Array(opts.sealed.key.length).map(
        (_, i) => (opts.sealed!.key[i]! ^ 0x5a) & 0xff,
      );
      for (let i = 0; i < POOL / 8; i++) {
        const sender = this.pick(opts.nodes);
        const wrongKey = Envelope.sealed({ ...opts.sealed, key: other, localNodeId: sender });
        const wrongCluster = Envelope.sealed({
          ...opts.sealed,
          clusterName: `${opts.sealed.clusterName}x`,
          localNodeId: sender,
        });
        this.foreign.push(Uint8Array.from(wrongKey.seal(totemCodec.encode(this.message(sender)))));
        this.foreign.push(Uint8Array.from(wrongCluster.seal(totemCodec.encode(this.message(sender)))));
      }
    }
  }

  private readonly foreign: Uint8Array[] = [];

  next(): Uint8Array {
    const r = this.rnd();
    if (this.opts.garbageOnly) {
      if (r < 0.3) return this.count('random', this.randomBytes(this.size()));
      return this.count('garbage-payload', this.plainGarbage());
    }
    if (r < 0.15) return this.count('random', this.randomBytes(this.size()));
    if (r < 0.3) return this.count('bad-header', this.mutateHeader(this.pickPool()));
    if (this.sealed) {
      if (r < 0.4) return this.count('foreign-key-or-cluster', this.pick(this.foreign));
      if (r < 0.5) return this.count('plain-in-sealed-cluster', this.plainGarbage());
      return this.count('tampered', this.flipBits(this.pickPool(), 1 + Math.floor(this.rnd() * 3)));
    }
    if (r < 0.45) return this.count('garbage-payload', this.plainGarbage());
    if (r < 0.88) return this.count('mutated-srp', this.mutateBody(this.pickPool()));
    if (r < 0.9) return this.count('forged-membership', this.forgedMembership());
    // Well-formed messages claiming a member: in plain mode indistinguishable from real ones.
    return this.count('forged-srp', this.pickPool());
  }

  private count(kind: string, bytes: Uint8Array): Uint8Array {
    this.counts[kind] = (this.counts[kind] ?? 0) + 1;
    return bytes;
  }

  private pick<T>(list: readonly T[]): T {
    return list[Math.floor(this.rnd() * list.length)]!;
  }

  private pickPool(): Uint8Array {
    return this.pick(this.pool);
  }

  private size(): number {
    const r = this.rnd();
    if (r < 0.5) return Math.floor(this.rnd() * 64);
    if (r < 0.9) return Math.floor(this.rnd() * 400);
    return Math.floor(this.rnd() * 1472);
  }

  private randomBytes(n: number): Uint8Array {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) b[i] = (this.rnd() * 256) | 0;
    return b;
  }

  /** A plain envelope header (cipher none) naming a random, maybe configured, sender; random body. */
  private plainGarbage(): Uint8Array {
    const body = this.randomBytes(this.size());
    if (body.length >= 3 && this.rnd() < 0.5) body.set([0x70, 0x7e, 1]); // srp magic and version
    const out = new Uint8Array(8 + body.length);
    out.set([0x54, 0x4d, 1, 0]);
    const claimed = this.rnd() < 0.8 ? this.pick(this.opts.nodes) : (this.rnd() * 2 ** 32) >>> 0;
    new DataView(out.buffer).setUint32(4, claimed, true);
    out.set(body, 8);
    return out;
  }

  private mutateHeader(src: Uint8Array): Uint8Array {
    const b = Uint8Array.from(src);
    const at = Math.floor(this.rnd() * Math.min(8, b.length));
    b[at] = (b[at]! ^ (1 + Math.floor(this.rnd() * 255))) & 0xff;
    return b;
  }

  /** Flips `n` distinct bits (two flips of one bit would give the original packet back). */
  private flipBits(src: Uint8Array, n: number): Uint8Array {
    const b = Uint8Array.from(src);
    const bits = new Set<number>();
    while (bits.size < Math.min(n, b.length * 8)) bits.add(Math.floor(this.rnd() * b.length * 8));
    for (const bit of bits) b[bit >> 3] = b[bit >> 3]! ^ (1 << (bit & 7));
    return b;
  }

  /** Mutations behind the envelope: bit flips, truncation, extension, overwritten words. */
  private mutateBody(src: Uint8Array): Uint8Array {
    const r = this.rnd();
    if (r < 0.35 || src.length <= 9) return this.flipBits(src, 1 + Math.floor(this.rnd() * 8));
    if (r < 0.55) return Uint8Array.from(src.subarray(0, 8 + Math.floor(this.rnd() * (src.length - 8))));
    if (r < 0.7) {
      const extra = this.randomBytes(1 + Math.floor(this.rnd() * 64));
      const out = new Uint8Array(src.length + extra.length);
      out.set(src);
      out.set(extra, src.length);
      return out;
    }
    const b = Uint8Array.from(src);
    const words = 1 + Math.floor(this.rnd() * 4);
    const view = new DataView(b.buffer);
    for (let i = 0; i < words && b.length >= 12; i++) {
      const at = 8 + Math.floor(this.rnd() * (b.length - 11));
      const special = [0, 1, 0xffffffff, 0x7fffffff, 0x80000000, 384, 385, 30, 31];
      view.setUint32(at, this.rnd() < 0.6 ? this.pick(special) : (this.rnd() * 2 ** 32) >>> 0, true);
    }
    return b;
  }

  /** A join naming unconfigured nodes or carrying a ring seq near 2^53, or a stranger's merge-detect (plain mode). */
  private forgedMembership(): Uint8Array {
    const sender = this.pick(this.opts.nodes);
    if (this.rnd() < 0.3) {
      // The envelope names a member; the srp header names a stranger.
      const stranger = 1000 + Math.floor(this.rnd() * 100_000);
      const merge: SrpMessage = {
        type: MessageType.MergeDetect,
        sender: stranger,
        ringId: { rep: stranger, seq: 4 },
      };
      return Envelope.plain(sender).seal(totemCodec.encode(merge));
    }
    const strangers = Array.from({ length: 1 + Math.floor(this.rnd() * 300) }, (_, i) => 1000 + i * 7);
    const huge = this.rnd() < 0.5;
    const join: SrpMessage = {
      type: MessageType.Join,
      sender,
      leave: false,
      ringSeq: huge ? Number.MAX_SAFE_INTEGER - Math.floor(this.rnd() * 8) : 1,
      procList: huge ? [...this.opts.nodes] : [...this.opts.nodes, ...strangers],
      failedList: [],
    };
    return Envelope.plain(sender).seal(totemCodec.encode(join));
  }

  private ringId(): { rep: NodeId; seq: number } {
    return { rep: this.pick(this.opts.nodes), seq: Math.floor(this.rnd() * 64) };
  }

  private seq(): number {
    return this.rnd() < 0.7 ? Math.floor(this.rnd() * 2000) : (this.rnd() * 2 ** 32) >>> 0;
  }

  private members(): NodeId[] {
    const set = this.opts.nodes.filter(() => this.rnd() < 0.6);
    return set.length > 0 ? set : [this.pick(this.opts.nodes)];
  }

  /** A well-formed Totem message with random contents. */
  private message(sender: NodeId): SrpMessage {
    const kind = Math.floor(this.rnd() * 6);
    switch (kind) {
      case MessageType.Token:
        return {
          type: MessageType.Token,
          sender,
          seq: this.seq(),
          tokenSeq: this.seq(),
          aru: this.seq(),
          aruAddr: this.pick(this.opts.nodes),
          ringId: this.ringId(),
          backlog: Math.floor(this.rnd() * 100),
          fcc: Math.floor(this.rnd() * 100),
          retransFlg: this.rnd() < 0.5,
          rtr: Array.from({ length: Math.floor(this.rnd() * 4) }, () => ({
            ringId: this.ringId(),
            seq: this.seq(),
          })),
        };
      case MessageType.Mcast:
        return {
          type: MessageType.Mcast,
          sender,
          origin: this.pick(this.opts.nodes),
          seq: this.seq(),
          ringId: this.ringId(),
          guarantee: this.rnd() < 0.5 ? 0 : 1,
          encapsulated: null,
          payload: this.randomBytes(Math.floor(this.rnd() * 200)),
        };
      case MessageType.MergeDetect:
        return { type: MessageType.MergeDetect, sender, ringId: this.ringId() };
      case MessageType.Join:
        return {
          type: MessageType.Join,
          sender,
          leave: this.rnd() < 0.1,
          ringSeq: Math.floor(this.rnd() * 64),
          procList: this.members(),
          failedList: this.rnd() < 0.7 ? [] : this.members(),
        };
      case MessageType.CommitToken: {
        const members = this.members();
        return {
          type: MessageType.CommitToken,
          sender,
          tokenSeq: this.seq(),
          ringId: this.ringId(),
          retransFlg: this.rnd() < 0.5,
          membIndex: Math.floor(this.rnd() * members.length),
          members,
          entries: members.map(() => ({
            ringId: this.ringId(),
            aru: this.seq(),
            highDelivered: this.seq(),
            receivedFlg: this.rnd() < 0.5,
          })),
        };
      }
      default:
        return { type: MessageType.TokenHoldCancel, sender, ringId: this.ringId() };
    }
  }
}
