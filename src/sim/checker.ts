/**
 * Invariant checks over what every simulated node delivers, run while the world runs and
 * once more at the end. The checker sees only the listener stream of each node (deliveries
 * and configuration changes), what the workload sent, and which node received which message
 * (from the network), so it judges any ordering core the same way.
 *
 * Invariants (the names appear in failure reports):
 * - payload-intact       a delivered payload is a workload message, undamaged, from its sender
 * - no-duplicate         a process delivers a message at most once
 * - in-configuration     a message is delivered in the configuration it was ordered in,
 *                        by a node that has installed that configuration, from one of its members
 * - agreed-order         one message per (ring, seq); each node delivers a ring's seqs ascending
 * - fifo                 messages of one sender are delivered in the order they were sent
 * - safe-delivery        a safe message is delivered only once every member of the delivering
 *                        node's current configuration (regular or transitional) holds it
 * - configuration-sane   members ascending and include the node; transitional ⊆ regular; one
 *                        transitional per change; ring seqs of a node grow, even across restarts
 * - configuration-agreement  a ring id names one member list; one transitional per (old, new) pair
 * - evs-same-set         nodes that move together from one regular configuration to the next
 *                        deliver the same messages in the same order (and the transitional
 *                        configuration at the same place when no safe message is involved)
 * - self-delivery        a node that stays up delivers every message it sent
 * - liveness             after the fault-free settling period, every live node is in one regular
 *                        configuration made of exactly the live nodes
 * The world adds three of its own: core-error (a core threw), storm (the event queue exploded),
 * wire-decodable (a core sent a packet its own codec cannot decode).
 */
import { type Configuration, Guarantee, type NodeId, type RingId } from '../core/io.js';
import { DenseIdSet } from './dense-id-set.js';
import { IdList } from './id-list.js';
import { payloadDamage, payloadSender, peekMsgId } from './payload.js';
import { SeqOwners } from './seq-owners.js';

export interface Violation {
  readonly invariant: string;
  readonly node: NodeId | undefined;
  readonly time: number;
  readonly detail: string;
}

/** Node ids are bits in a 31-bit mask. */
export const MAX_NODE_ID = 30;

interface MessageRecord {
  readonly sender: NodeId;
  readonly guarantee: Guarantee;
  /** Bit n set: node n holds the message. */
  heldBy: number;
  ringKey: string | undefined;
  seq: number;
}

interface Segment {
  readonly regularKey: string;
  readonly msgs: IdList;
  /** Index in msgs where the transitional configuration came, -1 before it. */
  transIndex: number;
  transKey: string | undefined;
  hasSafe: boolean;
}

interface RegularView {
  readonly key: string;
  readonly rep: NodeId;
  readonly seq: number;
  readonly members: readonly NodeId[];
  /** seq -> message id for this ring, shared by every node that installed it. */
  readonly owners: SeqOwners;
}

interface NodeState {
  incarnation: number;
  up: boolean;
  delivered: DenseIdSet;
  regular: RegularView | undefined;
  transitional: { key: string; members: readonly NodeId[] } | undefined;
  /** Last seq delivered in the current ring (u32, compared modulo 2^32). */
  lastSeq: number | undefined;
  lastFromSender: Map<NodeId, number>;
  segment: Segment | undefined;
  sent: number[];
}

/** True when every member's bit is set in `heldBy`. */
function holdsAll(heldBy: number, members: readonly NodeId[]): boolean {
  for (let i = 0; i < members.length; i++) if ((heldBy & (1 << members[i]!)) === 0) return false;
  return true;
}

export function ringKey(r: RingId): string {
  return `${r.rep}.${r.seq}`;
}

export class InvariantChecker {
  private readonly msgs: (MessageRecord | undefined)[] = [];
  private readonly nodes = new Map<NodeId, NodeState>();
  /** Highest regular ring seq each node id has installed, across incarnations. */
  private readonly lastRingSeq = new Map<NodeId, number>();
  private readonly seqOwner = new Map<string, SeqOwners>();
  private readonly regularMembers = new Map<string, string>();
  private readonly transMembers = new Map<string, string>();
  private readonly closedSegments = new Map<string, { node: NodeId; seg: Segment }>();
  private first: Violation | undefined;
  private now = 0;
  deliveries = 0;
  configurations = 0;
  /** Deliveries whose seq wrapped past 2^32 relative to the one before. */
  seqWraps = 0;
  /** Distinct messages delivered anywhere. */
  orderedMessages = 0;

  get violation(): Violation | undefined {
    return this.first;
  }

  setTime(now: number): void {
    this.now = now;
  }

  /**
   * A message the same-set comparison leaves out (a layer above the ordering may legitimately
   * deliver it at some members of a configuration only). None at the ordering level.
   */
  protected evsExempt(_msgId: number): boolean {
    return false;
  }

  /** Records the first violation; returns false so checks can `return this.fail(...)`. */
  protected fail(invariant: string, node: NodeId | undefined, detail: string): false {
    if (!this.first) this.first = { invariant, node, time: this.now, detail };
    return false;
  }

  nodeStarted(node: NodeId, incarnation: number): void {
    if (!Number.isInteger(node) || node < 1 || node > MAX_NODE_ID)
      throw new RangeError(`simulated node ids must be 1..${MAX_NODE_ID}, got ${node}`);
    this.nodes.set(node, {
      incarnation,
      up: true,
      delivered: new DenseIdSet(),
      regular: undefined,
      transitional: undefined,
      lastSeq: undefined,
      lastFromSender: new Map(),
      segment: undefined,
      sent: [],
    });
  }

  /** The process stopped (crash or leave): what it delivered can no longer be compared. */
  nodeStopped(node: NodeId): void {
    const st = this.nodes.get(node);
    if (st) st.up = false;
  }

  /** The workload's message was accepted by the node's core. */
  sent(node: NodeId, msgId: number, guarantee: Guarantee): void {
    if (this.msgs[msgId] !== undefined) throw new Error(`message id ${msgId} sent twice`);
    this.msgs[msgId] = { sender: node, guarantee, heldBy: 1 << node, ringKey: undefined, seq: -1 };
    this.nodeOf(node).sent.push(msgId);
  }

  /** The node's core refused the message (queue full): it was never sent. */
  withdrawn(node: NodeId, msgId: number): void {
    this.msgs[msgId] = undefined;
    const sent = this.nodeOf(node).sent;
    if (sent[sent.length - 1] === msgId) sent.pop();
  }

  /** The node's core was handed a packet carrying the message. */
  received(node: NodeId, msgId: number): void {
    const m = this.msgs[msgId];
    if (m) m.heldBy |= 1 << node;
  }

  delivered(
    node: NodeId,
    sender: NodeId,
    payload: Uint8Array,
    guarantee: Guarantee,
    ringId: RingId,
    seq: number,
  ): boolean {
    this.deliveries++;
    const st = this.nodeOf(node);
    const damage = payloadDamage(payload);
    if (damage !== undefined) return this.fail('payload-intact', node, damage);
    const msgId = peekMsgId(payload);
    const m = this.msgs[msgId];
    if (!m) return this.fail('payload-intact', node, `message ${msgId} was never sent`);
    const named = payloadSender(payload);
    if (named !== m.sender || sender !== m.sender)
      return this.fail(
        'payload-intact',
        node,
        `message ${msgId} sent by ${m.sender} delivered as from ${sender} (payload says ${named})`,
      );
    if (guarantee !== m.guarantee)
      return this.fail(
        'payload-intact',
        node,
        `message ${msgId} sent ${m.guarantee} delivered with guarantee ${guarantee}`,
      );
    if (st.delivered.has(msgId)) return this.fail('no-duplicate', node, `message ${msgId} delivered twice`);
    st.delivered.add(msgId);
    const reg = st.regular;
    if (!reg)
      return this.fail('in-configuration', node, `message ${msgId} delivered before any configuration`);
    const key = reg.rep === ringId.rep && reg.seq === ringId.seq ? reg.key : ringKey(ringId);
    if (reg.key !== key)
      return this.fail(
        'in-configuration',
        node,
        `message ${msgId} ordered in ring ${key} delivered while in ring ${reg.key}`,
      );
    if (!reg.members.includes(sender))
      return this.fail(
        'in-configuration',
        node,
        `message ${msgId} from ${sender}, not a member of ring ${key} [${reg.members}]`,
      );
    const owners = reg.owners;
    const owner = owners.get(seq);
    if (owner === undefined) owners.set(seq, msgId);
    else if (owner !== msgId)
      return this.fail(
        'agreed-order',
        node,
        `ring ${key} seq ${seq} is message ${msgId} here, message ${owner} elsewhere`,
      );
    if (m.ringKey === undefined) {
      this.orderedMessages++;
      m.ringKey = key;
      m.seq = seq;
    } else if (m.ringKey !== key || m.seq !== seq)
      return this.fail(
        'agreed-order',
        node,
        `message ${msgId} is ${key}/${seq} here, ${m.ringKey}/${m.seq} elsewhere`,
      );
    if (st.lastSeq !== undefined && ((seq - st.lastSeq) | 0) <= 0)
      return this.fail('agreed-order', node, `ring ${key}: seq ${seq} delivered after seq ${st.lastSeq}`);
    if (st.lastSeq !== undefined && seq < st.lastSeq) this.seqWraps++;
    st.lastSeq = seq;
    const lastFrom = st.lastFromSender.get(sender) ?? 0;
    if (msgId <= lastFrom)
      return this.fail('fifo', node, `message ${msgId} of ${sender} delivered after its later ${lastFrom}`);
    st.lastFromSender.set(sender, msgId);
    if (guarantee === Guarantee.Safe) {
      const view = st.transitional ?? reg;
      if (!holdsAll(m.heldBy, view.members)) {
        const missing = view.members.filter((n) => (m.heldBy & (1 << n)) === 0);
        return this.fail(
          'safe-delivery',
          node,
          `safe message ${msgId} delivered while [${missing}] of [${view.members}] do not hold it`,
        );
      }
    }
    const seg = st.segment!;
    if (this.evsExempt(msgId)) return true;
    seg.msgs.push(msgId);
    if (guarantee === Guarantee.Safe) seg.hasSafe = true;
    return true;
  }

  configurationChange(node: NodeId, conf: Configuration): boolean {
    this.configurations++;
    const st = this.nodeOf(node);
    const key = ringKey(conf.ringId);
    const members = conf.members;
    for (let i = 1; i < members.length; i++) {
      if (!(members[i - 1]! < members[i]!))
        return this.fail('configuration-sane', node, `members [${members}] are not strictly ascending`);
    }
    if (!members.includes(node))
      return this.fail('configuration-sane', node, `${conf.kind} ${key} [${members}] lacks the node itself`);
    if (conf.kind === 'regular') {
      const last = this.lastRingSeq.get(node);
      if (last !== undefined && !(conf.ringId.seq > last))
        return this.fail('configuration-sane', node, `regular ring seq ${conf.ringId.seq} after ${last}`);
      this.lastRingSeq.set(node, conf.ringId.seq);
      if (conf.left.length > 0)
        return this.fail('configuration-sane', node, `regular ${key} lists left nodes [${conf.left}]`);
      for (const j of conf.joined)
        if (!members.includes(j))
          return this.fail('configuration-sane', node, `regular ${key}: joined ${j} is not a member`);
      const shape = members.join(',');
      const known = this.regularMembers.get(key);
      if (known === undefined) this.regularMembers.set(key, shape);
      else if (known !== shape)
        return this.fail(
          'configuration-agreement',
          node,
          `ring ${key} is [${shape}] here, [${known}] elsewhere`,
        );
      this.closeSegment(node, st);
      let owners = this.seqOwner.get(key);
      if (!owners) {
        owners = new SeqOwners();
        this.seqOwner.set(key, owners);
      }
      st.regular = { key, rep: conf.ringId.rep, seq: conf.ringId.seq, members, owners };
      st.transitional = undefined;
      st.lastSeq = undefined;
      st.segment = {
        regularKey: key,
        msgs: new IdList(),
        transIndex: -1,
        transKey: undefined,
        hasSafe: false,
      };
    } else {
      const reg = st.regular;
      if (st.transitional)
        return this.fail('configuration-sane', node, `second transitional ${key} without a regular between`);
      if (reg) {
        for (const n of members)
          if (!reg.members.includes(n))
            return this.fail(
              'configuration-sane',
              node,
              `transitional ${key} member ${n} was not in regular ${reg.key} [${reg.members}]`,
            );
        const expectLeft = reg.members.filter((n) => !members.includes(n)).join(',');
        if (conf.left.join(',') !== expectLeft)
          return this.fail(
            'configuration-sane',
            node,
            `transitional ${key} left [${conf.left}], expected [${expectLeft}]`,
          );
      }
      const pairKey = `${reg?.key ?? '-'}>${key}`;
      const shape = members.join(',');
      const known = this.transMembers.get(pairKey);
      if (known === undefined) this.transMembers.set(pairKey, shape);
      else if (known !== shape)
        return this.fail(
          'configuration-agreement',
          node,
          `transitional ${pairKey} is [${shape}] here, [${known}] elsewhere`,
        );
      st.transitional = { key, members };
      if (st.segment) {
        st.segment.transIndex = st.segment.msgs.length;
        st.segment.transKey = key;
      }
    }
    return true;
  }

  private closeSegment(node: NodeId, st: NodeState): void {
    const seg = st.segment;
    if (!seg) return;
    const key = `${seg.regularKey}|${seg.transKey ?? '-'}`;
    const other = this.closedSegments.get(key);
    if (!other) {
      this.closedSegments.set(key, { node, seg });
      return;
    }
    this.compareSegments(key, node, seg, other.node, other.seg);
  }

  private compareSegments(key: string, a: NodeId, sa: Segment, b: NodeId, sb: Segment): boolean {
    const n = Math.min(sa.msgs.length, sb.msgs.length);
    for (let i = 0; i < n; i++) {
      if (sa.msgs.at(i) !== sb.msgs.at(i))
        return this.fail(
          'evs-same-set',
          a,
          `moving ${key}: delivery #${i} is message ${sa.msgs.at(i)} at node ${a}, ${sb.msgs.at(i)} at node ${b}`,
        );
    }
    if (sa.msgs.length !== sb.msgs.length)
      return this.fail(
        'evs-same-set',
        a,
        `moving ${key}: node ${a} delivered ${sa.msgs.length} messages, node ${b} delivered ${sb.msgs.length}`,
      );
    if (!sa.hasSafe && !sb.hasSafe && sa.transIndex !== sb.transIndex)
      return this.fail(
        'evs-same-set',
        a,
        `moving ${key}: transitional configuration after delivery ${sa.transIndex} at node ${a}, ${sb.transIndex} at node ${b}`,
      );
    return true;
  }

  /**
   * The end-of-run checks. `live` are the nodes running at the end; with `settled`, the run
   * ended with a fault-free period long enough that the cluster must have agreed and drained.
   */
  finish(live: readonly NodeId[], settled: boolean): Violation | undefined {
    if (this.first || !settled) return this.first;
    const sortedLive = [...live].sort((x, y) => x - y);
    const want = sortedLive.join(',');
    let finalKey: string | undefined;
    let finalSeg: { node: NodeId; seg: Segment } | undefined;
    for (const node of sortedLive) {
      const st = this.nodeOf(node);
      const reg = st.regular;
      if (!reg) {
        this.fail('liveness', node, 'no regular configuration at the end of the settling period');
        return this.first;
      }
      if (st.transitional) {
        this.fail('liveness', node, `still in transitional ${st.transitional.key} at the end`);
        return this.first;
      }
      if (reg.members.join(',') !== want) {
        this.fail('liveness', node, `ends in ring ${reg.key} [${reg.members}], live nodes are [${want}]`);
        return this.first;
      }
      if (finalKey === undefined) finalKey = reg.key;
      else if (finalKey !== reg.key) {
        this.fail('liveness', node, `ends in ring ${reg.key}, node ${sortedLive[0]} in ${finalKey}`);
        return this.first;
      }
    }
    // Only once everyone agrees on the final ring: the same deliveries there, own messages delivered.
    for (const node of sortedLive) {
      const st = this.nodeOf(node);
      if (!finalSeg) finalSeg = { node, seg: st.segment! };
      else if (!this.compareSegments(`${finalKey}|end`, node, st.segment!, finalSeg.node, finalSeg.seg))
        return this.first;
      for (const msgId of st.sent) {
        if (!st.delivered.has(msgId)) {
          this.fail('self-delivery', node, `own message ${msgId} never delivered`);
          return this.first;
        }
      }
    }
    return this.first;
  }

  private nodeOf(node: NodeId): NodeState {
    const st = this.nodes.get(node);
    if (!st) throw new Error(`checker: node ${node} was never started`);
    return st;
  }
}
