/** Why a packet was not used. The index is recorded (enum srpDrop) and counted. */
export const DropReason = {
  Decode: 0,
  ForeignRing: 1,
  Duplicate: 2,
  OutOfWindow: 3,
  WrongState: 4,
  RetransmittedToken: 5,
  Left: 6,
  Ignored: 7,
  NotRecoverable: 8,
  NotForMe: 9,
  /** Adopting the ids it names would grow proc ∪ failed beyond MEMBERS_MAX (no join could carry them). */
  TooManyMembers: 10,
  /** Its ring seq is above RING_SEQ_MAX: no safe ring id would follow it. */
  RingSeqExhausted: 11,
} as const;
export type DropReason = (typeof DropReason)[keyof typeof DropReason];

export const DROP_REASON_NAMES = [
  'decode',
  'foreign-ring',
  'duplicate',
  'out-of-window',
  'wrong-state',
  'retransmitted-token',
  'left',
  'ignored',
  'not-recoverable',
  'not-for-me',
  'too-many-members',
  'ring-seq-exhausted',
] as const;

export interface SrpStats {
  messagesOriginated: number;
  messagesDelivered: number;
  /** Messages re-multicast to serve a retransmission request. */
  retransmits: number;
  /** Sequence numbers this node put on the token's retransmission list. */
  retransmitRequests: number;
  /** Old-ring messages re-originated during RECOVERY. */
  recoveryOriginated: number;
  tokenRotations: number;
  tokenRetransmits: number;
  tokensHeld: number;
  decodeErrors: number;
  rangeViolations: number;
  configurationChanges: number;
  gatherEntries: number;
  consensusTimeouts: number;
  tokenLosses: number;
  failedToReceive: number;
  /** Recovery attempts that failed and restored the old ring's state. */
  oldRingRestores: number;
  packetsDropped: Record<(typeof DROP_REASON_NAMES)[number], number>;
}

export function newStats(): SrpStats {
  const packetsDropped = Object.fromEntries(
    DROP_REASON_NAMES.map((n) => [n, 0]),
  ) as SrpStats['packetsDropped'];
  return {
    messagesOriginated: 0,
    messagesDelivered: 0,
    retransmits: 0,
    retransmitRequests: 0,
    recoveryOriginated: 0,
    tokenRotations: 0,
    tokenRetransmits: 0,
    tokensHeld: 0,
    decodeErrors: 0,
    rangeViolations: 0,
    configurationChanges: 0,
    gatherEntries: 0,
    consensusTimeouts: 0,
    tokenLosses: 0,
    failedToReceive: 0,
    oldRingRestores: 0,
    packetsDropped,
  };
}
