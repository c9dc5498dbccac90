import {
  BROADCAST,
  type Configuration,
  Guarantee,
  type Host,
  type NodeId,
  type OrderedChannel,
  type OrderedListener,
  type RingId,
} from '../core/io.js';
import { EV } from '../recorder/events/index.js';
import type { Recorder } from '../recorder/recorder.js';
import { DECODE_ERROR_CODES, DecodeError } from '../wire/decode-error.js';
import { copyBytes } from '../wire/slab.js';
import { totemCodec } from './codec.js';
import { resolveSrpConfig, type SrpConfig } from './config.js';
import { Deque } from './deque.js';
import { fillCommitEntry, planOldRingDelivery, transitionalView } from './evs.js';
import {
  type CommitEntry,
  type CommitTokenMessage,
  type JoinMessage,
  type McastMessage,
  MEMBERS_MAX,
  type MergeDetectMessage,
  MessageType,
  RTR_ENTRIES_MAX,
  type SrpCodec,
  type SrpMessage,
  type TokenHoldCancelMessage,
  type TokenMessage,
} from './messages.js';
import { setEqual, setHas, setMinus, setSubset, setUnion } from './node-set.js';
import { RING_SEQ_MAX, RING_SEQ_STEP, ringIdEqual, ringSeqHigh, ringSeqLow } from './ring-id.js';
import { RingState, type StoredMessage } from './ring-state.js';
import { seqAdd, seqDiff, seqGt, seqLt, seqLte, seqMax, seqMin } from './seq.js';
import { DROP_REASON_NAMES, DropReason, newStats, type SrpStats } from './stats.js';
import { SrpTimer } from './timers.js';

export type SrpState = 'OPERATIONAL' | 'GATHER' | 'COMMIT' | 'RECOVERY';

const STATE_INDEX: Record<SrpState, number> = { OPERATIONAL: 0, GATHER: 1, COMMIT: 2, RECOVERY: 3 };

/** Indexes into the srpReason enum of the flight recorder. */
const Reason = {
  Start: 0,
  TokenLoss: 1,
  ForeignMessage: 2,
  Join: 3,
  ConsensusTimeout: 4,
  CommitToken: 5,
  RecoveryDone: 6,
  FailedToReceive: 7,
  Leave: 8,
  MergeDetect: 9,
  RangeViolation: 10,
  JoinInCommit: 11,
  JoinInRecovery: 12,
  RecoveryFailed: 13,
} as const;
type Reason = (typeof Reason)[keyof typeof Reason];

/** Bounded protocol conditions that re-form the ring instead of aborting (enum srpRange). */
export const RangeViolation = {
  RtrBeyondSeq: 0,
  RtrReleased: 1,
  HolesExceedQueue: 2,
  TokenSeqExceedsQueue: 3,
  RecoveryRange: 4,
  /** The next ring seq would pass RING_SEQ_MAX: no ring is formed (a: low, b: high bits of the seq). */
  RingSeqExhausted: 5,
} as const;
export type RangeViolation = (typeof RangeViolation)[keyof typeof RangeViolation];

/** Bytes of IP and UDP headers the payload budget leaves room for. */
const IP_UDP_OVERHEAD = 28;

export class SrpInvariantError extends Error {
  override readonly name = 'SrpInvariantError';
}

function invariant(cond: boolean, what: string): asserts cond {
  if (!cond) throw new SrpInvariantError(`srp invariant violated: ${what}`);
}

interface PendingMessage {
  readonly payload: Uint8Array;
  readonly guarantee: Guarantee;
}

export interface SrpNodeOptions {
  nodeId: NodeId;
  config?: Partial<SrpConfig>;
  host: Host;
  listener: OrderedListener;
  recorder: Recorder;
  /** The ring seq this node stored last (Host.persistRingSeq); ring ids never go backwards. */
  persistedRingSeq?: number;
  /** The wire format (default: Totem's own layout). */
  codec?: SrpCodec;
}

/**
 * The Totem single-ring ordering and membership protocol as a sans-IO state machine.
 *
 * Inputs arrive through receive / timerExpired / mcast / leave; every effect leaves through
 * the Host (packets, timers, ring-seq persistence) and the OrderedListener (deliveries and
 * configuration changes). Nothing here reads a clock.
 */
export class SrpNode implements OrderedChannel {
  readonly nodeId: NodeId;
  readonly config: SrpConfig;
  readonly stats: SrpStats = newStats();
  readonly maxPayload: number;

  private readonly host: Host;
  private readonly listener: OrderedListener;
  private readonly rec: Recorder;
  private readonly codec: SrpCodec;

  private _state: SrpState = 'GATHER';
  private started = false;
  private hasLeft = false;

  /** The ring this node orders in (adopted on entering COMMIT). */
  private _ringId: RingId;
  /** Members of _ringId, in token order (ascending). */
  private ringMembers: NodeId[] = [];
  /** The regular configuration delivered last. */
  private confMembers: NodeId[] = [];
  /** The ring of the last regular configuration; its messages are in `ring` outside RECOVERY. */
  private oldRingId: RingId;
  private oldMembers: NodeId[];
  /** Highest ring seq seen anywhere; a new ring takes this + 4. */
  private tokenRingIdSeq: number;

  // Membership algorithm.
  private proc: NodeId[] = [];
  private failed: NodeId[] = [];
  private consensus = new Set<NodeId>();
  /** The last join of each sender since the consensus timer was last armed (this round). */
  private roundJoins = new Map<NodeId, JoinMessage>();
  /** Members a consensus timeout of this gathering kept although they had not agreed. */
  private spared = new Set<NodeId>();
  private failedToRecv = false;

  // Messages.
  private ring: RingState;
  /** The old ring's state while RECOVERY runs; restored if recovery fails. */
  private savedOld: RingState | null = null;
  private readonly newMessages = new Deque<PendingMessage>();
  private retransQueue = new Deque<McastMessage>();
  private readonly missCount = new Map<number, number>();

  // Token.
  private myTokenSeq: number;
  private lastTokenRxAru: number;
  private prevTokenRxAru: number;
  /** Every message up to here is held by every member (aru seen on two consecutive visits). */
  private safeLine: number;
  private lastTokenSeqField: number;
  private seqUnchanged = 0;
  private aruCount = 0;
  private lastAruForCount: number;
  private trc = 0;
  private pbl = 0;
  private lastSentToken: { bytes: Uint8Array; to: NodeId; type: number; tokenSeq: number } | null = null;
  private heldToken: TokenMessage | null = null;
  private selfToken: SrpMessage | null = null;
  private holdCancelSent = false;
  private mergeDetectArmed = false;

  // COMMIT and RECOVERY.
  private myCommitTokenSeq = 0;
  private transMembers: NodeId[] = [];
  private highRingDelivered: number;
  private retransFlgCount = 0;
  private installSeq: number;
  private iSetRetransFlg = false;
  private rotationCounter = 0;
  private initialTokenSent = false;
  private inOperationalEnter = false;

  constructor(opts: SrpNodeOptions) {
    invariant(
      Number.isInteger(opts.nodeId) && opts.nodeId > 0 && opts.nodeId <= 0xffffffff,
      'node id is a u32 > 0',
    );
    this.nodeId = opts.nodeId;
    this.config = resolveSrpConfig(opts.config);
    this.host = opts.host;
    this.listener = opts.listener;
    this.rec = opts.recorder;
    this.codec = opts.codec ?? totemCodec;
    this.maxPayload = this.config.netMtu - IP_UDP_OVERHEAD - 2 * this.codec.mcastOverhead;
    const persisted = opts.persistedRingSeq ?? 0;
    invariant(
      Number.isSafeInteger(persisted) && persisted >= 0 && persisted <= RING_SEQ_MAX,
      'persisted ring seq is an integer in 0..RING_SEQ_MAX',
    );
    // A restarted node must not reuse the id of a ring it was in, so it starts one past it.
    this._ringId = { rep: this.nodeId, seq: persisted + 1 };
    this.oldRingId = this._ringId;
    this.oldMembers = [this.nodeId];
    this.tokenRingIdSeq = this._ringId.seq;
    const start = this.config.startSeq;
    this.ring = new RingState(start, this._ringId);
    this.myTokenSeq = seqAdd(start, -1);
    this.lastTokenRxAru = start;
    this.prevTokenRxAru = start;
    this.safeLine = start;
    this.lastTokenSeqField = start;
    this.lastAruForCount = start;
    this.highRingDelivered = start;
    this.installSeq = start;
  }

  get state(): SrpState {
    return this._state;
  }

  get ringId(): RingId {
    return this._ringId;
  }

  get members(): readonly NodeId[] {
    return this.confMembers;
  }

  /** True once leave() was called: the node takes no further part. */
  get left(): boolean {
    return this.hasLeft;
  }

  start(_now: number): void {
    invariant(!this.started, 'start is called once');
    this.started = true;
    this.proc = [this.nodeId];
    this.failed = [];
    this.gatherEnter(Reason.Start);
  }

  receive(_now: number, from: NodeId, packet: Uint8Array): void {
    if (!this.started || this.hasLeft) {
      this.drop(DropReason.Left, from, packet.length > 3 ? (packet[3] ?? 0) : 0, 0);
      return;
    }
    let msg: SrpMessage;
    try {
      // The packet is kept unchanged (stored for retransmission), so a payload may point into it.
      msg = this.codec.decodeSharing ? this.codec.decodeSharing(packet) : this.codec.decode(packet);
    } catch (err) {
      if (!(err instanceof DecodeError)) throw err;
      this.stats.decodeErrors++;
      this.stats.packetsDropped.decode++;
      this.rec.rec(
        EV.SRP_DECODE_ERROR,
        from,
        DECODE_ERROR_CODES.indexOf(err.code),
        err.offset,
        packet.length,
      );
      return;
    }
    // A retransmitted mcast keeps its first sender's header, so only own packets are refused here.
    if (from === this.nodeId || (msg.sender === this.nodeId && msg.type !== MessageType.Mcast)) {
      this.drop(DropReason.NotForMe, from, msg.type, msg.sender);
      return;
    }
    this.dispatch(msg, packet, from);
  }

  timerExpired(_now: number, timer: number): void {
    if (!this.started || this.hasLeft) return;
    switch (timer) {
      case SrpTimer.TokenLoss:
        this.onTokenLoss();
        return;
      case SrpTimer.TokenRetransmit:
        this.onTokenRetransmit();
        return;
      case SrpTimer.Join:
        if (this._state === 'GATHER') {
          this.sendJoin(false);
          this.host.setTimer(SrpTimer.Join, this.config.join);
        }
        return;
      case SrpTimer.Consensus:
        this.onConsensusTimeout();
        return;
      case SrpTimer.MergeDetect:
        this.onMergeDetectTimer();
        return;
      case SrpTimer.Hold:
        if (this.heldToken) {
          const tok = this.heldToken;
          this.heldToken = null;
          this.forwardToken(tok);
        }
        return;
      case SrpTimer.SelfToken: {
        const msg = this.selfToken;
        this.selfToken = null;
        if (msg) this.dispatch(msg, null, this.nodeId);
        return;
      }
    }
  }

  mcast(payload: Uint8Array, guarantee: Guarantee): boolean {
    if (this.hasLeft) return false;
    if (payload.length > this.maxPayload)
      throw new RangeError(`srp payload of ${payload.length} bytes exceeds maxPayload ${this.maxPayload}`);
    if (this.newMessages.length >= this.config.sendQueueSize) return false;
    this.newMessages.push({ payload: copyBytes(payload), guarantee });
    if (this._state === 'OPERATIONAL') {
      if (this.heldToken) this.releaseHeldToken();
      else if (this.seqUnchanged > this.config.seqnoUnchangedConst && !this.holdCancelSent) {
        this.holdCancelSent = true;
        this.broadcast({ type: MessageType.TokenHoldCancel, sender: this.nodeId, ringId: this._ringId });
        this.rec.rec(EV.SRP_HOLD_CANCEL_TX, this._ringId.rep, ringSeqLow(this._ringId));
      }
    }
    return true;
  }

  sendQueueRoom(): number {
    return this.hasLeft ? 0 : this.config.sendQueueSize - this.newMessages.length;
  }

  /** Graceful leave: a join with this node in its own failed set lets the others re-form at once. */
  leave(_now: number): void {
    if (!this.started || this.hasLeft) return;
    const procList = setMinus(this.proc, [this.nodeId]);
    const failedList = setUnion(this.failed, [this.nodeId]);
    this.rec.rec(EV.SRP_LEAVE, procList.length, ringSeqLow(this._ringId));
    const join: JoinMessage = {
      type: MessageType.Join,
      sender: this.nodeId,
      leave: true,
      ringSeq: this._ringId.seq,
      procList,
      failedList,
    };
    this.broadcast(join);
    this.rec.rec(EV.SRP_JOIN_TX, procList.length, failedList.length, ringSeqLow(this._ringId), 1);
    this.hasLeft = true;
    for (const t of Object.values(SrpTimer)) this.host.cancelTimer(t);
    this.heldToken = null;
    this.selfToken = null;
    this.lastSentToken = null;
  }

  // ---------------------------------------------------------------- dispatch

  private dispatch(msg: SrpMessage, bytes: Uint8Array | null, from: NodeId): void {
    switch (msg.type) {
      case MessageType.Token:
        this.onToken(msg);
        return;
      case MessageType.Mcast:
        this.onMcast(msg, bytes, from);
        return;
      case MessageType.MergeDetect:
        this.onMergeDetect(msg);
        return;
      case MessageType.Join:
        this.onJoin(msg);
        return;
      case MessageType.CommitToken:
        this.onCommitToken(msg);
        return;
      case MessageType.TokenHoldCancel:
        this.onHoldCancel(msg);
        return;
    }
  }

  private drop(reason: DropReason, from: NodeId, type: number, detail: number): void {
    this.stats.packetsDropped[DROP_REASON_NAMES[reason]!]++;
    this.rec.rec(EV.SRP_DROP, reason, from, type, detail);
  }

  private broadcast(msg: SrpMessage): Uint8Array {
    const bytes = this.codec.encode(msg);
    this.host.send(BROADCAST, bytes);
    return bytes;
  }

  private setState(to: SrpState, reason: Reason): void {
    this.rec.rec(EV.SRP_STATE, STATE_INDEX[this._state], STATE_INDEX[to], reason, ringSeqLow(this._ringId));
    this._state = to;
  }

  // ---------------------------------------------------------------- mcast

  private onMcast(m: McastMessage, bytes: Uint8Array | null, from: NodeId): void {
    // The sort queue belongs to one ring, which is not the adopted ring while COMMIT runs or
    // after a failed attempt restored the old ring: a message is stored only in its own ring.
    if (!ringIdEqual(m.ringId, this.ring.ringId)) {
      if (ringIdEqual(m.ringId, this._ringId)) {
        this.drop(DropReason.WrongState, from, MessageType.Mcast, m.seq);
        return;
      }
      if ((this._state === 'OPERATIONAL' || this._state === 'GATHER') && !setHas(this.proc, from)) {
        if (!this.membershipFits([from])) {
          this.drop(DropReason.TooManyMembers, from, MessageType.Mcast, m.ringId.rep);
          return;
        }
        this.proc = setUnion(this.proc, [from]);
        this.gatherEnter(Reason.ForeignMessage);
      }
      this.drop(DropReason.ForeignRing, from, MessageType.Mcast, m.ringId.rep);
      return;
    }
    if (this._state === 'COMMIT') {
      // My commit-token entry already told the new ring what I hold of the old one; a message
      // taken now could be delivered by me alone.
      this.drop(DropReason.WrongState, from, MessageType.Mcast, m.seq);
      return;
    }
    const ring = this.ring;
    if (!ring.inWindow(m.seq, this.config.queueSize)) {
      this.drop(DropReason.OutOfWindow, m.sender, MessageType.Mcast, m.seq);
      return;
    }
    if (ring.queue.has(m.seq)) {
      this.drop(DropReason.Duplicate, m.sender, MessageType.Mcast, m.seq);
      return;
    }
    ring.store({ msg: m, bytes });
    if (this.missCount.size > 0) this.missCount.delete(m.seq);
    this.rec.rec(EV.SRP_MCAST_RX, from, m.seq, ringSeqLow(m.ringId), m.encapsulated ? 0 : m.origin);
    if (m.encapsulated && this._state === 'RECOVERY') this.recoverOldMessage(m.encapsulated);
    if (this._state === 'OPERATIONAL' || this._state === 'RECOVERY') this.advanceDelivery();
  }

  /** An old-ring message re-originated by a member of my transitional configuration. */
  private recoverOldMessage(inner: McastMessage): void {
    const old = this.savedOld;
    if (!old || !ringIdEqual(inner.ringId, this.oldRingId)) return;
    if (!old.inWindow(inner.seq, this.config.queueSize) || old.queue.has(inner.seq)) return;
    old.store({ msg: inner, bytes: null });
  }

  /**
   * Delivers what is contiguous. Recovery wrappers are consumed silently; an application
   * message is delivered only in OPERATIONAL, and a safe one only once every member holds it.
   */
  private advanceDelivery(): void {
    const ring = this.ring;
    for (;;) {
      const next = seqAdd(ring.highDelivered, 1);
      const stored = ring.queue.get(next);
      if (!stored) return;
      if (!stored.msg.encapsulated) {
        if (this._state !== 'OPERATIONAL') return;
        if (stored.msg.guarantee === Guarantee.Safe && seqGt(next, this.safeLine)) return;
        this.deliverMessage(stored.msg, this._ringId);
      }
      ring.highDelivered = next;
    }
  }

  private deliverMessage(m: McastMessage, ringId: RingId): void {
    invariant(
      this._state === 'OPERATIONAL' || this.inOperationalEnter,
      'messages are delivered only in OPERATIONAL or while entering it',
    );
    this.stats.messagesDelivered++;
    this.rec.rec(EV.SRP_DELIVER, ringId.rep, ringSeqLow(ringId), m.seq, m.origin);
    this.listener.deliver(m.origin, m.payload, m.guarantee, ringId, m.seq);
  }

  // ---------------------------------------------------------------- token

  private onToken(tok: TokenMessage): void {
    if (this._state === 'GATHER' || this._state === 'COMMIT') {
      this.drop(DropReason.WrongState, tok.sender, MessageType.Token, tok.tokenSeq);
      return;
    }
    if (!ringIdEqual(tok.ringId, this._ringId)) {
      this.drop(DropReason.ForeignRing, tok.sender, MessageType.Token, tok.ringId.rep);
      return;
    }
    if (!seqGt(tok.tokenSeq, this.myTokenSeq)) {
      // A retransmitted token: timers and last_aru stay as they are (Totem spec).
      this.drop(DropReason.RetransmittedToken, tok.sender, MessageType.Token, tok.tokenSeq);
      return;
    }
    this.myTokenSeq = tok.tokenSeq;
    this.rec.rec(EV.SRP_TOKEN_RX, tok.sender, tok.tokenSeq, tok.seq, tok.aru);
    this.stats.tokenRotations++;
    this.host.cancelTimer(SrpTimer.TokenRetransmit);
    this.lastSentToken = null;
    this.host.setTimer(SrpTimer.TokenLoss, this.config.token);
    const ring = this.ring;
    const span = seqDiff(ring.lastReleased, tok.seq);
    if (span < 0 || span > this.config.queueSize) {
      this.rangeViolation(
        RangeViolation.TokenSeqExceedsQueue,
        tok.seq,
        ring.lastReleased,
        this.config.queueSize,
      );
      return;
    }
    if (this._state === 'OPERATIONAL') this.listener.tokenVisit();

    this.prevTokenRxAru = this.lastTokenRxAru;
    this.lastTokenRxAru = tok.aru;
    const twiceSeen = seqMin(this.prevTokenRxAru, this.lastTokenRxAru);
    if (seqGt(twiceSeen, this.safeLine) && seqLte(twiceSeen, ring.high)) this.safeLine = twiceSeen;

    // Idle means nothing new and nothing outstanding: holes keep the ring rotating.
    if (tok.seq === this.lastTokenSeqField && tok.aru === tok.seq && tok.rtr.length === 0) {
      this.seqUnchanged++;
      if (this._state === 'OPERATIONAL' && !this.mergeDetectArmed) {
        this.mergeDetectArmed = true;
        this.host.setTimer(SrpTimer.MergeDetect, this.config.merge);
      }
    } else {
      this.seqUnchanged = 0;
      this.holdCancelSent = false;
      if (this.mergeDetectArmed) {
        this.mergeDetectArmed = false;
        this.host.cancelTimer(SrpTimer.MergeDetect);
      }
    }
    this.lastTokenSeqField = tok.seq;

    const served = this.serveRetransmissions(tok);
    if (served < 0) return;
    const pending = this._state === 'OPERATIONAL' ? this.newMessages.length : this.retransQueue.length;
    let allowed = Math.max(0, this.flowAllowance(tok, pending) - served);
    if (seqDiff(ring.lastReleased, tok.seq) + allowed + this.config.windowSize > this.config.queueSize)
      allowed = 0;
    const originated = this.originate(tok, allowed);
    if (seqGt(tok.seq, ring.high)) ring.high = tok.seq;
    ring.updateAru();
    if (!this.requestMissing(tok)) return;

    if (seqLt(ring.aru, tok.aru) || tok.aruAddr === this.nodeId || tok.aruAddr === 0) {
      tok.aru = ring.aru;
      tok.aruAddr = tok.aru === tok.seq ? 0 : this.nodeId;
    }
    if (tok.aru === this.lastAruForCount && tok.aruAddr !== 0) this.aruCount++;
    else this.aruCount = 0;
    this.lastAruForCount = tok.aru;
    if (this.aruCount > this.config.failRecvConst && tok.aruAddr === this.nodeId) {
      this.stats.failedToReceive++;
      this.rec.rec(EV.SRP_FAILED_TO_RECV, this.aruCount, ring.aru, tok.seq);
      this.failedToRecv = true;
      this.failed = setUnion(this.failed, [this.nodeId]);
      this.gatherEnter(Reason.FailedToReceive);
      return;
    }

    const sent = served + originated;
    tok.fcc = Math.max(0, Math.min(0xffffffff, tok.fcc + sent - this.trc));
    tok.backlog = Math.max(0, Math.min(0xffffffff, tok.backlog + pending - this.pbl));
    this.trc = sent;
    this.pbl = pending;
    this.rec.rec(EV.SRP_FLOW, allowed, sent, tok.fcc, tok.backlog);

    ring.releaseUpTo(seqMin(this.safeLine, ring.highDelivered));

    let recoveryDone = false;
    if (this._state === 'RECOVERY') recoveryDone = this.recoveryTokenChecks(tok);

    tok.tokenSeq = seqAdd(tok.tokenSeq, 1);
    if (
      this._state === 'OPERATIONAL' &&
      this.seqUnchanged > this.config.seqnoUnchangedConst &&
      this._ringId.rep === this.nodeId &&
      this.newMessages.length === 0
    ) {
      this.heldToken = tok;
      this.stats.tokensHeld++;
      this.rec.rec(EV.SRP_TOKEN_HOLD, tok.tokenSeq, tok.seq, this.seqUnchanged);
      this.host.setTimer(SrpTimer.Hold, this.config.hold);
    } else {
      this.forwardToken(tok);
    }

    this.advanceDelivery();
    if (recoveryDone) this.operationalEnter();
  }

  /** Re-multicasts what the token asks for and I hold; returns the count, or -1 after a range violation. */
  private serveRetransmissions(tok: TokenMessage): number {
    // Most visits carry no requests: nothing to serve, no list to rebuild.
    if (tok.rtr.length === 0) return 0;
    let served = 0;
    const keep: typeof tok.rtr = [];
    for (const item of tok.rtr) {
      if (!ringIdEqual(item.ringId, this._ringId)) continue;
      if (served >= this.config.maxMessages) {
        keep.push(item);
        continue;
      }
      const stored = this.ring.queue.get(item.seq);
      if (stored) {
        const bytes = this.storedBytes(stored);
        this.host.send(BROADCAST, bytes);
        served++;
        this.stats.retransmits++;
        this.rec.rec(EV.SRP_RETRANSMIT, item.seq, ringSeqLow(item.ringId), stored.msg.origin, bytes.length);
        continue;
      }
      if (seqGt(item.seq, tok.seq)) {
        this.rangeViolation(RangeViolation.RtrBeyondSeq, item.seq, tok.seq, tok.sender);
        return -1;
      }
      keep.push(item);
    }
    tok.rtr = keep;
    return served;
  }

  private storedBytes(stored: StoredMessage): Uint8Array {
    if (!stored.bytes) stored.bytes = this.codec.encode(stored.msg);
    return stored.bytes;
  }

  /** How many messages this visit may send (whitetank's fcc_calculate). */
  private flowAllowance(tok: TokenMessage, pending: number): number {
    let allowed = this.config.maxMessages;
    allowed = Math.min(allowed, Math.max(0, this.config.windowSize - tok.fcc));
    const denominator = tok.backlog + pending - this.pbl;
    if (denominator > 0) {
      // My share of the window: my backlog last visit over the ring's backlog now.
      const share = Math.floor((this.config.windowSize * this.pbl) / denominator);
      if (share > 0) allowed = Math.min(allowed, share);
    }
    return allowed;
  }

  /** Gives queued messages their ring seq and multicasts them (recovery wrappers in RECOVERY). */
  private originate(tok: TokenMessage, allowed: number): number {
    let sent = 0;
    const ring = this.ring;
    while (sent < allowed) {
      let msg: McastMessage;
      if (this._state === 'OPERATIONAL') {
        const next = this.newMessages.shift();
        if (!next) break;
        tok.seq = seqAdd(tok.seq, 1);
        msg = {
          type: MessageType.Mcast,
          sender: this.nodeId,
          origin: this.nodeId,
          seq: tok.seq,
          ringId: this._ringId,
          guarantee: next.guarantee,
          encapsulated: null,
          payload: next.payload,
        };
      } else {
        const inner = this.retransQueue.shift();
        if (!inner) break;
        tok.seq = seqAdd(tok.seq, 1);
        msg = {
          type: MessageType.Mcast,
          sender: this.nodeId,
          origin: this.nodeId,
          seq: tok.seq,
          ringId: this._ringId,
          guarantee: inner.guarantee,
          encapsulated: inner,
          payload: new Uint8Array(0),
        };
      }
      const bytes = this.codec.encode(msg);
      ring.store({ msg, bytes });
      this.host.send(BROADCAST, bytes);
      sent++;
      if (msg.encapsulated) {
        this.stats.recoveryOriginated++;
        this.rec.rec(
          EV.SRP_MCAST_RECOVERY_TX,
          msg.seq,
          msg.encapsulated.seq,
          msg.encapsulated.origin,
          bytes.length,
        );
      } else {
        this.stats.messagesOriginated++;
        this.rec.rec(
          EV.SRP_MCAST_TX,
          this._ringId.rep,
          ringSeqLow(this._ringId),
          msg.seq,
          msg.payload.length,
        );
      }
    }
    return sent;
  }

  /** Puts my holes on the retransmission list once each was missed miss_count_const times. */
  private requestMissing(tok: TokenMessage): boolean {
    const ring = this.ring;
    const holes = seqDiff(ring.aru, tok.seq);
    if (holes > this.config.queueSize) {
      this.rangeViolation(RangeViolation.HolesExceedQueue, ring.aru, tok.seq, this.config.queueSize);
      return false;
    }
    for (let i = 1; i <= holes && tok.rtr.length < RTR_ENTRIES_MAX; i++) {
      const seq = seqAdd(ring.aru, i);
      if (ring.queue.has(seq)) continue;
      const misses = (this.missCount.get(seq) ?? 0) + 1;
      this.missCount.set(seq, misses);
      if (misses < this.config.missCountConst) continue;
      if (tok.rtr.some((r) => r.seq === seq && ringIdEqual(r.ringId, this._ringId))) continue;
      tok.rtr.push({ ringId: this._ringId, seq });
      this.stats.retransmitRequests++;
      this.rec.rec(EV.SRP_RTR_REQUEST, seq, ringSeqLow(this._ringId), misses, tok.rtr.length);
    }
    if (this.missCount.size > 0)
      for (const seq of this.missCount.keys()) if (seqLte(seq, ring.aru)) this.missCount.delete(seq);
    return true;
  }

  private forwardToken(tok: TokenMessage): void {
    const to = this.nextMember();
    // The token object is this node's alone (decoded from its packet, or held): forwarding
    // rewrites it rather than copying it, as this runs on every visit.
    const out = tok;
    out.sender = this.nodeId;
    this.rec.rec(EV.SRP_TOKEN_TX, to, out.tokenSeq, out.seq, out.aru);
    this.sendToken(out, to, out.tokenSeq);
  }

  private nextMember(): NodeId {
    const members = this.ringMembers;
    const i = members.indexOf(this.nodeId);
    invariant(i >= 0, 'this node is a member of the ring it passes a token in');
    return members[(i + 1) % members.length]!;
  }

  private sendToken(msg: TokenMessage | CommitTokenMessage, to: NodeId, tokenSeq: number): void {
    if (to === this.nodeId) {
      this.selfToken = msg;
      this.host.setTimer(SrpTimer.SelfToken, 0);
      return;
    }
    const bytes = this.codec.encode(msg);
    this.host.send(to, bytes);
    this.lastSentToken = { bytes, to, type: msg.type, tokenSeq };
    this.host.setTimer(SrpTimer.TokenRetransmit, this.config.tokenRetransmit);
  }

  private onTokenRetransmit(): void {
    const last = this.lastSentToken;
    if (!last || this._state === 'GATHER') return;
    this.stats.tokenRetransmits++;
    this.rec.rec(EV.SRP_TOKEN_RETRANSMIT, last.to, last.tokenSeq, last.type);
    this.host.send(last.to, last.bytes);
    this.host.setTimer(SrpTimer.TokenRetransmit, this.config.tokenRetransmit);
  }

  private releaseHeldToken(): void {
    const tok = this.heldToken;
    if (!tok) return;
    this.heldToken = null;
    this.host.cancelTimer(SrpTimer.Hold);
    this.seqUnchanged = 0;
    this.forwardToken(tok);
  }

  private onHoldCancel(m: TokenHoldCancelMessage): void {
    if (!ringIdEqual(m.ringId, this._ringId) || this._state !== 'OPERATIONAL') {
      this.drop(DropReason.Ignored, m.sender, MessageType.TokenHoldCancel, 0);
      return;
    }
    this.rec.rec(EV.SRP_HOLD_CANCEL_RX, m.sender, this.heldToken ? 1 : 0);
    this.seqUnchanged = 0;
    if (this.heldToken) this.releaseHeldToken();
  }

  private onMergeDetectTimer(): void {
    this.mergeDetectArmed = false;
    if (this._state !== 'OPERATIONAL' || this._ringId.rep !== this.nodeId) return;
    this.broadcast({ type: MessageType.MergeDetect, sender: this.nodeId, ringId: this._ringId });
    this.rec.rec(EV.SRP_MERGE_DETECT_TX, this._ringId.rep, ringSeqLow(this._ringId));
  }

  private onMergeDetect(m: MergeDetectMessage): void {
    this.rec.rec(EV.SRP_MERGE_DETECT_RX, m.sender, m.ringId.rep, ringSeqLow(m.ringId));
    if (ringIdEqual(m.ringId, this._ringId)) return;
    if ((this._state === 'OPERATIONAL' || this._state === 'GATHER') && !setHas(this.proc, m.sender)) {
      if (!this.membershipFits([m.sender])) {
        this.drop(DropReason.TooManyMembers, m.sender, MessageType.MergeDetect, this.proc.length);
        return;
      }
      this.proc = setUnion(this.proc, [m.sender]);
      this.gatherEnter(Reason.MergeDetect);
      return;
    }
    this.drop(DropReason.Ignored, m.sender, MessageType.MergeDetect, 0);
  }

  private rangeViolation(kind: RangeViolation, a: number, b: number, c: number): void {
    this.stats.rangeViolations++;
    this.rec.rec(EV.SRP_RANGE_VIOLATION, kind, a, b, c);
    this.gatherEnter(Reason.RangeViolation);
  }

  // ---------------------------------------------------------------- membership

  private onTokenLoss(): void {
    this.stats.tokenLosses++;
    switch (this._state) {
      case 'OPERATIONAL':
      case 'COMMIT':
        this.gatherEnter(Reason.TokenLoss);
        return;
      case 'RECOVERY':
        this.gatherEnter(Reason.RecoveryFailed);
        return;
      case 'GATHER':
        this.onConsensusTimeout();
        return;
    }
  }

  private gatherEnter(reason: Reason): void {
    if (this._state === 'RECOVERY') this.restoreOldRing();
    if (this._state !== 'GATHER') this.spared.clear();
    this.setState('GATHER', reason);
    this.stats.gatherEntries++;
    this.proc = setUnion(this.proc, [this.nodeId]);
    for (const t of [SrpTimer.TokenLoss, SrpTimer.TokenRetransmit, SrpTimer.MergeDetect, SrpTimer.Hold]) {
      this.host.cancelTimer(t);
    }
    this.heldToken = null;
    this.selfToken = null;
    this.lastSentToken = null;
    this.mergeDetectArmed = false;
    const ringSeq = ringSeqLow(this._ringId);
    for (const id of this.proc) this.rec.rec(EV.SRP_MEMB_SET, 0, id, ringSeq);
    for (const id of this.failed) this.rec.rec(EV.SRP_MEMB_SET, 1, id, ringSeq);
    this.sendJoin(false);
    this.host.setTimer(SrpTimer.Join, this.config.join);
    this.host.setTimer(SrpTimer.Consensus, this.config.consensus);
    this.consensus = new Set([this.nodeId]);
    this.roundJoins.clear();
    this.checkAgreement();
  }

  /**
   * Whether proc ∪ failed stays within MEMBERS_MAX once `ids` are added: a join must carry both
   * sets, so a node that adopted more ids than that could send no join at all. A legitimate
   * cluster never comes near the bound; ids beyond it are refused where they would enter.
   */
  private membershipFits(ids: readonly NodeId[]): boolean {
    return setUnion(setUnion(this.proc, this.failed), ids).length <= MEMBERS_MAX;
  }

  private sendJoin(leave: boolean): void {
    invariant(this.membershipFits([]), 'proc ∪ failed fits in a join');
    const join: JoinMessage = {
      type: MessageType.Join,
      sender: this.nodeId,
      leave,
      ringSeq: this._ringId.seq,
      procList: this.proc,
      failedList: this.failed,
    };
    this.broadcast(join);
    this.rec.rec(
      EV.SRP_JOIN_TX,
      this.proc.length,
      this.failed.length,
      ringSeqLow(this._ringId),
      leave ? 1 : 0,
    );
  }

  private onJoin(j: JoinMessage): void {
    this.rec.rec(EV.SRP_JOIN_RX, j.sender, j.procList.length, j.failedList.length, j.ringSeq % 0x100000000);
    if (j.ringSeq > RING_SEQ_MAX) {
      this.drop(DropReason.RingSeqExhausted, j.sender, MessageType.Join, ringSeqHigh(j.ringSeq));
      return;
    }
    // Checked against everything the join could add, before anything is adopted: a refused join
    // changes nothing. mergeJoinSets may adopt less (not a foreign ring's failed list), so this
    // errs on the side of refusing, which no cluster of at most MEMBERS_MAX nodes ever meets.
    if (!this.membershipFits(setUnion(setUnion(j.procList, j.failedList), [j.sender]))) {
      this.drop(
        DropReason.TooManyMembers,
        j.sender,
        MessageType.Join,
        j.procList.length + j.failedList.length,
      );
      return;
    }
    if (j.ringSeq > this.tokenRingIdSeq) this.tokenRingIdSeq = j.ringSeq;
    this.processJoin(j);
    // After processing: a join that (re-)entered GATHER started a new round, and its sender
    // was heard in it.
    if (!j.leave) this.roundJoins.set(j.sender, j);
  }

  /**
   * In GATHER, a join that lists me as failed but predates my current ring was sent before its
   * sender knew of that ring. When every node's consensus timeout fires at once, each forms a
   * singleton ring right after multicasting "all others failed"; acting on those joins in the
   * next GATHER made every node fail every other again, for ever. If the sender really still
   * holds me failed, the consensus timeout separates us all the same.
   */
  private isStaleJoin(j: JoinMessage): boolean {
    return setHas(j.failedList, this.nodeId) && !j.leave && j.ringSeq < this._ringId.seq;
  }

  private processJoin(j: JoinMessage): void {
    switch (this._state) {
      case 'OPERATIONAL':
        if (setHas(j.failedList, this.nodeId) && !j.leave) {
          this.drop(DropReason.Ignored, j.sender, MessageType.Join, 1);
          return;
        }
        if (setHas(this.oldMembers, j.sender) && j.ringSeq < this._ringId.seq) {
          this.drop(DropReason.Ignored, j.sender, MessageType.Join, 2);
          return;
        }
        if (!this.joinProcess(j)) this.gatherEnter(Reason.Join);
        return;
      case 'GATHER':
        if (this.isStaleJoin(j)) {
          this.drop(DropReason.Ignored, j.sender, MessageType.Join, 4);
          return;
        }
        this.joinProcess(j);
        return;
      case 'COMMIT':
      case 'RECOVERY':
        if (setHas(this.ringMembers, j.sender) && j.ringSeq >= this._ringId.seq) {
          const reason = this._state === 'COMMIT' ? Reason.JoinInCommit : Reason.JoinInRecovery;
          this.mergeJoinSets(j);
          this.gatherEnter(reason);
          return;
        }
        this.drop(DropReason.Ignored, j.sender, MessageType.Join, 3);
        return;
    }
  }

  /** The join rules of the membership algorithm; true if GATHER was (re-)entered. */
  private joinProcess(j: JoinMessage): boolean {
    if (setEqual(j.procList, this.proc) && setEqual(j.failedList, this.failed)) {
      if (!j.leave) this.consensus.add(j.sender);
      if (this._state === 'GATHER') this.checkAgreement();
      return false;
    }
    if (setSubset(j.procList, this.proc) && setSubset(j.failedList, this.failed)) return false;
    if (setHas(this.failed, j.sender)) return false;
    // Sets only grow while gathering and a join is re-sent only when they changed, so an
    // exchange of joins always ends.
    if (!this.mergeJoinSets(j)) return false;
    this.gatherEnter(Reason.Join);
    return true;
  }

  /** Merges a join's view into mine; true if my proc or failed set changed. */
  private mergeJoinSets(j: JoinMessage): boolean {
    const proc = setUnion(this.proc, j.procList);
    let failed: NodeId[];
    if (setHas(j.failedList, this.nodeId)) failed = setUnion(this.failed, [j.sender]);
    else if (setHas(this.oldMembers, j.sender)) failed = setUnion(this.failed, j.failedList);
    // The failures seen by a node of another ring are not mine to adopt; if we cannot agree,
    // the consensus timeout separates us and merge-detect joins the rings later.
    else failed = this.failed;
    const changed = !setEqual(proc, this.proc) || !setEqual(failed, this.failed);
    this.proc = proc;
    this.failed = failed;
    return changed;
  }

  private consensusAgreed(): boolean {
    const members = setMinus(this.proc, this.failed);
    if (members.length === 0) return this.failedToRecv;
    return members.every((id) => this.consensus.has(id));
  }

  /** When every member of proc − failed agrees, the lowest of them creates the commit token. */
  private checkAgreement(): void {
    if (this._state !== 'GATHER' || !this.consensusAgreed()) return;
    if (this.failedToRecv) {
      this.failedToRecv = false;
      this.proc = [this.nodeId];
      this.failed = [];
      this.createCommitToken();
      return;
    }
    const members = setMinus(this.proc, this.failed);
    if (members[0] === this.nodeId) this.createCommitToken();
  }

  private onConsensusTimeout(): void {
    if (this._state !== 'GATHER') return;
    this.stats.consensusTimeouts++;
    const members = setMinus(this.proc, this.failed);
    if (this.consensusAgreed()) {
      // Agreement was reached; wait for the commit token, no longer than a token timeout.
      this.rec.rec(EV.SRP_CONSENSUS, 1, this.proc.length, this.failed.length, 0);
      this.consensus = new Set([this.nodeId]);
      this.host.setTimer(SrpTimer.TokenLoss, this.config.token);
      return;
    }
    const disagreeing = members.filter((id) => !this.consensus.has(id));
    // Corosync fails every member that has not agreed. Here a member that sent a join this
    // round and only lags behind me (its sets within mine once the unheard are failed) is kept
    // once: it catches up by my join or at its own timeout. Nodes of different old rings cannot
    // adopt each other's failed sets, so each fails a dead node only at its own timeout;
    // failing the live laggards there too split them into singleton rings whenever their
    // timers ran out of phase, merge-detect joined them, and they split again. A laggard kept
    // once and still behind at the next timeout fails, so every disagreement still ends.
    const unheard = disagreeing.filter((id) => !this.roundJoins.has(id));
    const failedNext = setUnion(this.failed, unheard);
    const lagging = disagreeing.filter((id) => {
      const last = this.roundJoins.get(id);
      return (
        last !== undefined &&
        !this.spared.has(id) &&
        setSubset(last.procList, this.proc) &&
        setSubset(last.failedList, failedNext)
      );
    });
    const silent = setMinus(disagreeing, lagging);
    this.spared = new Set(lagging);
    this.failed = setUnion(this.failed, silent);
    this.rec.rec(EV.SRP_CONSENSUS, 0, this.proc.length, this.failed.length, silent.length);
    this.gatherEnter(Reason.ConsensusTimeout);
  }

  private createCommitToken(): void {
    const members = setMinus(this.proc, this.failed);
    invariant(members[0] === this.nodeId, 'the representative is the lowest node of the new ring');
    const seq = Math.max(this.tokenRingIdSeq, this._ringId.seq) + RING_SEQ_STEP;
    if (seq > RING_SEQ_MAX) {
      // Only reachable once every ring seq up to RING_SEQ_MAX was used: stay in GATHER.
      this.stats.rangeViolations++;
      this.rec.rec(
        EV.SRP_RANGE_VIOLATION,
        RangeViolation.RingSeqExhausted,
        seq % 0x100000000,
        ringSeqHigh(seq),
        0,
      );
      return;
    }
    const ringId: RingId = { rep: this.nodeId, seq };
    const empty: CommitEntry = { ringId: { rep: 0, seq: 0 }, aru: 0, highDelivered: 0, receivedFlg: false };
    const ct: CommitTokenMessage = {
      type: MessageType.CommitToken,
      sender: this.nodeId,
      tokenSeq: this.config.startSeq,
      ringId,
      retransFlg: false,
      membIndex: 0,
      members,
      entries: members.map(() => empty),
    };
    this.rec.rec(EV.SRP_COMMIT_CREATE, ringId.rep, ringSeqLow(ringId), members.length);
    this.commitEnter(ct);
  }

  private onCommitToken(ct: CommitTokenMessage): void {
    this.rec.rec(EV.SRP_COMMIT_RX, ct.sender, ct.tokenSeq, ct.membIndex, ringSeqLow(ct.ringId));
    if (ct.ringId.seq > RING_SEQ_MAX) {
      this.drop(DropReason.RingSeqExhausted, ct.sender, MessageType.CommitToken, ringSeqHigh(ct.ringId.seq));
      return;
    }
    const n = ct.members.length;
    switch (this._state) {
      case 'GATHER':
        if (
          ct.membIndex < n &&
          ct.members[ct.membIndex] === this.nodeId &&
          ct.ringId.seq > this._ringId.seq &&
          setEqual(ct.members, setMinus(this.proc, this.failed))
        ) {
          this.commitEnter(ct);
          return;
        }
        break;
      case 'COMMIT':
        if (
          ringIdEqual(ct.ringId, this._ringId) &&
          ct.membIndex === n &&
          seqGt(ct.tokenSeq, this.myCommitTokenSeq) &&
          setEqual(ct.members, this.ringMembers) &&
          ringIdEqual(ct.entries[ct.members.indexOf(this.nodeId)]!.ringId, this.oldRingId)
        ) {
          this.recoveryEnter(ct);
          return;
        }
        break;
      case 'RECOVERY':
        if (
          ringIdEqual(ct.ringId, this._ringId) &&
          this._ringId.rep === this.nodeId &&
          !this.initialTokenSent &&
          seqGt(ct.tokenSeq, this.myCommitTokenSeq)
        ) {
          this.originateInitialToken();
          return;
        }
        break;
      case 'OPERATIONAL':
        break;
    }
    this.drop(DropReason.Ignored, ct.sender, MessageType.CommitToken, ct.membIndex);
  }

  private commitEnter(ct: CommitTokenMessage): void {
    const index = ct.membIndex;
    invariant(ct.members[index] === this.nodeId, 'the commit token visits members in ring order');
    const ring = this.ring;
    const mine: CommitEntry = {
      ringId: this.oldRingId,
      aru: ring.aru,
      highDelivered: ring.highDelivered,
      receivedFlg: ring.aru === ring.high,
    };
    const entries = fillCommitEntry(ct.entries, index, mine);
    ct.entries = entries;
    ct.membIndex = index + 1;
    this.rec.rec(
      EV.SRP_COMMIT_ENTRY,
      ring.aru,
      ring.high,
      ring.highDelivered,
      entries[index]!.receivedFlg ? 1 : 0,
    );

    this.host.cancelTimer(SrpTimer.Join);
    this.host.cancelTimer(SrpTimer.Consensus);
    this._ringId = ct.ringId;
    if (ct.ringId.seq > this.tokenRingIdSeq) this.tokenRingIdSeq = ct.ringId.seq;
    this.host.persistRingSeq(ct.ringId.seq);
    this.ringMembers = [...ct.members];
    this.setState('COMMIT', Reason.CommitToken);
    this.trc = 0;
    this.pbl = 0;
    this.host.setTimer(SrpTimer.TokenLoss, this.config.token);
    this.forwardCommitToken(ct);
  }

  private forwardCommitToken(ct: CommitTokenMessage): void {
    const members = ct.members;
    const to = members[(members.indexOf(this.nodeId) + 1) % members.length]!;
    const out: CommitTokenMessage = { ...ct, sender: this.nodeId, tokenSeq: seqAdd(ct.tokenSeq, 1) };
    // Tokens are recognised as new by the tokenSeq they arrive with, compared to the last one received.
    this.myCommitTokenSeq = ct.tokenSeq;
    this.rec.rec(EV.SRP_COMMIT_TX, to, out.tokenSeq, out.membIndex, ringSeqLow(out.ringId));
    this.sendToken(out, to, out.tokenSeq);
  }

  private recoveryEnter(ct: CommitTokenMessage): void {
    this.forwardCommitToken(ct);
    const old = this.ring;
    const view = transitionalView(ct.members, ct.entries, this.oldRingId, this.oldMembers);
    const trans = view.members;
    invariant(setHas(trans, this.nodeId), 'this node is in its own transitional configuration');
    this.transMembers = trans;
    const lowRingAru = view.lowRingAru;
    this.highRingDelivered = view.highRingDelivered;
    this.retransQueue = new Deque<McastMessage>();
    let count = 0;
    if (view.needsRecovery) {
      let from = seqMax(lowRingAru, old.lastReleased);
      const span = seqDiff(from, old.high);
      if (span > this.config.queueSize) {
        this.stats.rangeViolations++;
        this.rec.rec(
          EV.SRP_RANGE_VIOLATION,
          RangeViolation.RecoveryRange,
          from,
          old.high,
          this.config.queueSize,
        );
        from = seqAdd(old.high, -this.config.queueSize);
      }
      for (let i = 1; i <= seqDiff(from, old.high); i++) {
        const stored = old.queue.get(seqAdd(from, i));
        // The old ring's own recovery wrappers lie at or below every member's aru (its
        // OPERATIONAL state began only once all held them), so they are never in this range.
        if (stored && !stored.msg.encapsulated) {
          this.retransQueue.push(stored.msg);
          count++;
        }
      }
    }
    this.rec.rec(EV.SRP_RECOVERY_ORIGINATE, count, lowRingAru, old.high, trans.length);

    this.savedOld = old;
    const start = this.config.startSeq;
    this.ring = new RingState(start, this._ringId);
    this.missCount.clear();
    this.myTokenSeq = seqAdd(start, -1);
    this.lastTokenRxAru = start;
    this.prevTokenRxAru = start;
    this.safeLine = start;
    this.lastTokenSeqField = start;
    this.lastAruForCount = start;
    this.seqUnchanged = 0;
    this.aruCount = 0;
    this.retransFlgCount = 0;
    this.installSeq = start;
    this.iSetRetransFlg = false;
    this.rotationCounter = 0;
    this.initialTokenSent = false;
    this.setState('RECOVERY', Reason.CommitToken);
    this.host.setTimer(SrpTimer.TokenLoss, this.config.token);
  }

  private originateInitialToken(): void {
    this.initialTokenSent = true;
    const start = this.config.startSeq;
    const retransFlg = this.retransQueue.length > 0;
    this.iSetRetransFlg = retransFlg;
    this.host.cancelTimer(SrpTimer.TokenRetransmit);
    this.lastSentToken = null;
    this.rec.rec(EV.SRP_TOKEN_ORIGINATE, this._ringId.rep, ringSeqLow(this._ringId), retransFlg ? 1 : 0);
    this.onToken({
      type: MessageType.Token,
      sender: this.nodeId,
      seq: start,
      tokenSeq: start,
      aru: start,
      aruAddr: this.nodeId,
      ringId: this._ringId,
      backlog: 0,
      fcc: 0,
      retransFlg,
      rtr: [],
    });
  }

  /** The RECOVERY bookkeeping of one token visit; true when the ring may become OPERATIONAL. */
  private recoveryTokenChecks(tok: TokenMessage): boolean {
    const empty = this.retransQueue.length === 0;
    if (!empty && !tok.retransFlg) {
      tok.retransFlg = true;
      this.iSetRetransFlg = true;
    } else if (empty && tok.retransFlg && this.iSetRetransFlg) {
      tok.retransFlg = false;
      this.iSetRetransFlg = false;
    }
    this.retransFlgCount = tok.retransFlg ? 0 : this.retransFlgCount + 1;
    if (this.retransFlgCount === 2) this.installSeq = tok.seq;
    if (this.retransFlgCount >= 3 && seqLte(this.installSeq, tok.aru)) this.rotationCounter++;
    else this.rotationCounter = 0;
    this.rec.rec(EV.SRP_RECOVERY_PROGRESS, this.retransFlgCount, this.installSeq, this.ring.aru, tok.aru);
    return this.rotationCounter >= 2;
  }

  private restoreOldRing(): void {
    const old = this.savedOld;
    if (old) {
      this.ring = old;
      this.savedOld = null;
      old.updateAru();
      this.stats.oldRingRestores++;
      this.rec.rec(EV.SRP_OLD_RING_RESTORE, old.aru, old.high, ringSeqLow(this.oldRingId));
    }
    this.retransQueue = new Deque<McastMessage>();
    this.missCount.clear();
  }

  /**
   * The extended-virtual-synchrony delivery sequence: old-ring messages that may still be
   * delivered in the old regular configuration, the transitional configuration, the rest of
   * the old ring's messages that every transitional member holds, then the regular configuration.
   */
  private operationalEnter(): void {
    const old = this.savedOld;
    invariant(old !== null, 'the old ring state is kept until OPERATIONAL is entered');
    this.inOperationalEnter = true;
    old.updateAru();
    const oldRingId = this.oldRingId;
    const plan = planOldRingDelivery(
      old.queue,
      old.highDelivered,
      old.high,
      this.highRingDelivered,
      // deliver_memb: once recovery completed (the only way here) it is the transitional membership.
      this.transMembers,
    );
    for (const m of plan.beforeTransitional) this.deliverMessage(m, oldRingId);
    const newMembers = this.ringMembers;
    const left = setMinus(this.oldMembers, this.transMembers);
    const joined = setMinus(newMembers, this.transMembers);
    this.deliverConfiguration({
      kind: 'transitional',
      ringId: this._ringId,
      members: this.transMembers,
      left,
      joined: [],
    });
    for (const m of plan.inTransitional) this.deliverMessage(m, oldRingId);
    for (const m of plan.skipped) this.rec.rec(EV.SRP_DELIVER_SKIP, m.seq, m.origin, ringSeqLow(oldRingId));
    this.rec.rec(
      EV.SRP_OPERATIONAL_DELIVERY,
      plan.beforeTransitional.length,
      plan.inTransitional.length,
      plan.skipped.length,
      this.highRingDelivered,
    );
    this.deliverConfiguration({
      kind: 'regular',
      ringId: this._ringId,
      members: newMembers,
      left: [],
      joined,
    });

    this.confMembers = [...newMembers];
    this.oldMembers = [...newMembers];
    this.oldRingId = this._ringId;
    this.proc = [...newMembers];
    this.failed = [];
    this.failedToRecv = false;
    this.savedOld = null;
    this.retransQueue = new Deque<McastMessage>();
    this.inOperationalEnter = false;
    this.setState('OPERATIONAL', Reason.RecoveryDone);
    this.advanceDelivery();
  }

  private deliverConfiguration(conf: Configuration): void {
    this.stats.configurationChanges++;
    const r = conf.ringId;
    const seq = ringSeqLow(r);
    this.rec.rec(EV.SRP_CONF, conf.kind === 'transitional' ? 0 : 1, r.rep, seq, conf.members.length);
    // Every member as a member, then the left and the joined nodes again with their role
    // (the replay checker builds the three lists from these records).
    for (const id of conf.members) this.rec.rec(EV.SRP_CONF_MEMBER, r.rep, seq, id, 0);
    for (const id of conf.left) this.rec.rec(EV.SRP_CONF_MEMBER, r.rep, seq, id, 1);
    for (const id of conf.joined) this.rec.rec(EV.SRP_CONF_MEMBER, r.rep, seq, id, 2);
    this.listener.configurationChange(conf);
  }
}
