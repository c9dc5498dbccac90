import type { Guarantee, NodeId, RingId } from '../core/io.js';

/** The six Totem SRP wire messages, decoded. Every packet names its sender. */

export const MessageType = {
  Token: 0,
  Mcast: 1,
  MergeDetect: 2,
  Join: 3,
  CommitToken: 4,
  TokenHoldCancel: 5,
} as const;
export type MessageType = (typeof MessageType)[keyof typeof MessageType];

/** Retransmission list limit carried on the token. */
export const RTR_ENTRIES_MAX = 30;
/** Largest membership any join or commit token may describe. */
export const MEMBERS_MAX = 384;

export interface RtrItem {
  readonly ringId: RingId;
  readonly seq: number;
}

export interface TokenMessage {
  readonly type: typeof MessageType.Token;
  /** Rewritten by the node that forwards the token (a token object is the holder's alone). */
  sender: NodeId;
  seq: number;
  tokenSeq: number;
  aru: number;
  aruAddr: NodeId;
  readonly ringId: RingId;
  backlog: number;
  fcc: number;
  retransFlg: boolean;
  rtr: RtrItem[];
}

export interface McastMessage {
  readonly type: typeof MessageType.Mcast;
  readonly sender: NodeId;
  /** The node that originated the message (system_from). */
  readonly origin: NodeId;
  readonly seq: number;
  readonly ringId: RingId;
  readonly guarantee: Guarantee;
  /** Recovery wrapper: the complete old-ring message being re-originated; payload is empty then. */
  readonly encapsulated: McastMessage | null;
  readonly payload: Uint8Array;
}

export interface MergeDetectMessage {
  readonly type: typeof MessageType.MergeDetect;
  readonly sender: NodeId;
  readonly ringId: RingId;
}

export interface JoinMessage {
  readonly type: typeof MessageType.Join;
  readonly sender: NodeId;
  /** A graceful leave: the sender has put itself into its own failed set. */
  readonly leave: boolean;
  readonly ringSeq: number;
  readonly procList: readonly NodeId[];
  readonly failedList: readonly NodeId[];
}

export interface CommitEntry {
  readonly ringId: RingId;
  readonly aru: number;
  readonly highDelivered: number;
  readonly receivedFlg: boolean;
}

export interface CommitTokenMessage {
  readonly type: typeof MessageType.CommitToken;
  readonly sender: NodeId;
  tokenSeq: number;
  readonly ringId: RingId;
  retransFlg: boolean;
  membIndex: number;
  /** Ascending node ids of the new ring. */
  readonly members: readonly NodeId[];
  /** One entry per member, filled in during the first rotation. */
  entries: CommitEntry[];
}

export interface TokenHoldCancelMessage {
  readonly type: typeof MessageType.TokenHoldCancel;
  readonly sender: NodeId;
  readonly ringId: RingId;
}

export type SrpMessage =
  | TokenMessage
  | McastMessage
  | MergeDetectMessage
  | JoinMessage
  | CommitTokenMessage
  | TokenHoldCancelMessage;

/** The wire format, behind an interface so another layout (e.g. corosync's) can be plugged in. */
export interface SrpCodec {
  /** Bytes every mcast adds around its payload (twice that for a recovery wrapper). */
  readonly mcastOverhead: number;
  encode(msg: SrpMessage): Uint8Array;
  /** Throws only DecodeError. */
  decode(bytes: Uint8Array): SrpMessage;
  /**
   * As decode, but an mcast's payload may be a view into `bytes` rather than a copy: for a
   * caller that keeps the packet unchanged anyway (SrpNode stores it for retransmission).
   */
  decodeSharing?(bytes: Uint8Array): SrpMessage;
}
