/**
 * A built-in test group for demos and multi-process tests. Every daemon joins it; a control
 * request queues N messages of S bytes, sent as fast as the send queue takes them. Every
 * delivery is counted and folded into a running SHA-256 in delivery order, so equal
 * (count, hash) on two nodes means they delivered the same messages in the same order.
 * The "ring" figures restart at each regular configuration: nodes that share one
 * configuration must agree on them even when one of them joined late.
 */
import { createHash, type Hash } from 'node:crypto';
import { type Configuration, Guarantee, type NodeId } from '../core/io.js';
import type { ProcessGroups } from '../pg/process-groups.js';

export const LOAD_GROUP = 'totem.test.load';
/** node id u32 + message number u32, then filler derived from both. */
export const LOAD_HEADER_BYTES = 8;

export interface LoadStatus {
  readonly group: string;
  readonly sent: number;
  readonly queued: number;
  readonly delivered: number;
  readonly deliveredBytes: number;
  /** SHA-256 over every delivery since start (sender, length, bytes), hex. */
  readonly hash: string;
  readonly ringDelivered: number;
  readonly ringHash: string;
  readonly ringId: { rep: number; seq: number } | null;
  /** Deliveries per sender since start. */
  readonly bySender: Record<string, number>;
  readonly tooLarge: number;
}

export class LoadGroup {
  private sent = 0;
  private readonly queue: { remaining: number; size: number; guarantee: Guarantee }[] = [];
  private queuedCount = 0;
  private delivered = 0;
  private deliveredBytes = 0;
  private hash: Hash = createHash('sha256');
  private ringDelivered = 0;
  private ringHash: Hash = createHash('sha256');
  private ringId: { rep: number; seq: number } | null = null;
  private readonly bySender = new Map<NodeId, number>();
  private tooLarge = 0;
  private readonly header = Buffer.alloc(8);

  constructor(
    private readonly pg: ProcessGroups,
    private readonly nodeId: NodeId,
  ) {
    pg.join(LOAD_GROUP, {
      deliver: (_group, sender, message) => this.onDeliver(sender, message),
      configurationChange: (conf) => this.onConfiguration(conf),
    });
  }

  /** Queues `count` messages of `size` bytes; they leave as the send queue has room. */
  enqueue(count: number, size: number, guarantee: Guarantee = Guarantee.Agreed): void {
    if (!Number.isInteger(count) || count < 0 || count > 10_000_000)
      throw new RangeError(`count must be an integer in 0..10000000, got ${count}`);
    if (!Number.isInteger(size) || size < LOAD_HEADER_BYTES || size > this.pg.maxMessageSize)
      throw new RangeError(`size must be an integer in ${LOAD_HEADER_BYTES}..${this.pg.maxMessageSize}`);
    if (count === 0) return;
    this.queue.push({ remaining: count, size, guarantee });
    this.queuedCount += count;
  }

  /** Sends what the ordering layer accepts now; call on every token visit and after enqueue. */
  pump(): void {
    while (this.queue.length > 0) {
      const head = this.queue[0]!;
      const message = this.makeMessage(this.sent + 1, head.size);
      const r = this.pg.send(LOAD_GROUP, message, head.guarantee);
      if (r.kind === 'try-again') return;
      if (r.kind === 'too-large') this.tooLarge++;
      else this.sent++;
      this.queuedCount--;
      if (--head.remaining === 0) this.queue.shift();
    }
  }

  /**
   * Starts the ring figures afresh (tests, once traffic is quiet on every node): lets nodes
   * that disagreed about earlier traffic (plain-mode forgeries) be compared on what follows.
   */
  resetRing(): void {
    this.ringDelivered = 0;
    this.ringHash = createHash('sha256');
  }

  status(): LoadStatus {
    return {
      group: LOAD_GROUP,
      sent: this.sent,
      queued: this.queuedCount,
      delivered: this.delivered,
      deliveredBytes: this.deliveredBytes,
      hash: this.hash.copy().digest('hex'),
      ringDelivered: this.ringDelivered,
      ringHash: this.ringHash.copy().digest('hex'),
      ringId: this.ringId,
      bySender: Object.fromEntries([...this.bySender].map(([k, v]) => [String(k), v])),
      tooLarge: this.tooLarge,
    };
  }

  private makeMessage(n: number, size: number): Uint8Array {
    const m = Buffer.allocUnsafe(size);
    m.writeUInt32LE(this.nodeId >>> 0, 0);
    m.writeUInt32LE(n >>> 0, 4);
    for (let i = LOAD_HEADER_BYTES; i < size; i++) m[i] = (n * 31 + i * 7 + this.nodeId) & 0xff;
    return m;
  }

  private onDeliver(sender: NodeId, message: Uint8Array): void {
    this.delivered++;
    this.deliveredBytes += message.length;
    this.ringDelivered++;
    this.bySender.set(sender, (this.bySender.get(sender) ?? 0) + 1);
    this.header.writeUInt32LE(sender >>> 0, 0);
    this.header.writeUInt32LE(message.length, 4);
    this.hash.update(this.header);
    this.hash.update(message);
    this.ringHash.update(this.header);
    this.ringHash.update(message);
  }

  private onConfiguration(conf: Configuration): void {
    if (conf.kind !== 'regular') return;
    this.ringDelivered = 0;
    this.ringHash = createHash('sha256');
    this.ringId = { rep: conf.ringId.rep, seq: conf.ringId.seq };
  }
}
