/**
 * Every Totem SRP constant, typed and validated. Defaults follow openais whitetank 0.80.3;
 * `corosyncDefaults(n)` gives corosync 3's values for an n-node cluster.
 */

export interface SrpConfig {
  /** No token for this long (ms) means the token is lost. */
  readonly token: number;
  /** Resend the last token if it is not seen again within this time (ms). */
  readonly tokenRetransmit: number;
  /** The representative holds the token this long (ms) on an idle ring. */
  readonly hold: number;
  /** Re-send interval of join messages while gathering (ms). */
  readonly join: number;
  /** Wait this long (ms) for agreement in GATHER. */
  readonly consensus: number;
  /** An idle representative multicasts merge-detect after this long (ms). */
  readonly merge: number;
  /** Token rotations without aru progress before this node declares it fails to receive. */
  readonly failRecvConst: number;
  /** Idle token rotations before the representative starts holding the token. */
  readonly seqnoUnchangedConst: number;
  /** Token visits a hole must be seen before it is put on the retransmit list. */
  readonly missCountConst: number;
  /** Messages per token rotation, ring wide. */
  readonly windowSize: number;
  /** Messages per token visit per node. */
  readonly maxMessages: number;
  /** First sequence number of every ring (messages start at startSeq + 1). */
  readonly startSeq: number;
  /** Slots of each sort queue: no message more than this far past the last released one is kept. */
  readonly queueSize: number;
  /** Frames the application may queue before mcast reports TRY_AGAIN. */
  readonly sendQueueSize: number;
  /** Network MTU in bytes; the largest payload is derived from it. */
  readonly netMtu: number;
}

export class SrpConfigError extends Error {
  override readonly name = 'SrpConfigError';
  constructor(
    readonly field: keyof SrpConfig | 'nodeCount',
    readonly reason: string,
  ) {
    super(`srp config ${field}: ${reason}`);
  }
}

const TOKEN_RETRANSMITS_BEFORE_LOSS = 4;
/** The kernel tick whitetank subtracted from the hold time (HZ = 100). */
const TICK_MS = 10;

function derivedRetransmit(token: number): number {
  return Math.floor(token / (TOKEN_RETRANSMITS_BEFORE_LOSS + 0.2));
}

function derivedHold(tokenRetransmit: number): number {
  return Math.max(1, Math.floor(tokenRetransmit * 0.8 - TICK_MS));
}

export const whitetankDefaults: SrpConfig = Object.freeze({
  token: 1000,
  tokenRetransmit: derivedRetransmit(1000),
  hold: derivedHold(derivedRetransmit(1000)),
  join: 50,
  consensus: 800,
  merge: 200,
  failRecvConst: 2500,
  seqnoUnchangedConst: 30,
  missCountConst: 5,
  windowSize: 50,
  maxMessages: 17,
  startSeq: 0,
  queueSize: 16384,
  sendQueueSize: 4096,
  netMtu: 1500,
});

/** corosync 3 defaults: token 3000 ms plus token_coefficient 650 ms per node beyond two. */
export function corosyncDefaults(nodeCount: number): SrpConfig {
  if (!Number.isInteger(nodeCount) || nodeCount < 1)
    throw new SrpConfigError('nodeCount', `must be a positive integer, got ${nodeCount}`);
  const token = 3000 + (nodeCount >= 3 ? 650 * (nodeCount - 2) : 0);
  const tokenRetransmit = derivedRetransmit(token);
  return Object.freeze({
    ...whitetankDefaults,
    token,
    tokenRetransmit,
    hold: derivedHold(tokenRetransmit),
    consensus: Math.floor(1.2 * token),
  });
}

/**
 * Merges a partial configuration over a base and validates it. Timeouts derived from the
 * token (retransmit, hold) follow a changed token unless given explicitly.
 */
export function resolveSrpConfig(
  partial: Partial<SrpConfig> = {},
  base: SrpConfig = whitetankDefaults,
): SrpConfig {
  const merged: SrpConfig = { ...base, ...partial };
  let tokenRetransmit = merged.tokenRetransmit;
  let hold = merged.hold;
  if (partial.token !== undefined && partial.tokenRetransmit === undefined)
    tokenRetransmit = derivedRetransmit(merged.token);
  if (partial.hold === undefined && (partial.token !== undefined || partial.tokenRetransmit !== undefined))
    hold = derivedHold(tokenRetransmit);
  const cfg: SrpConfig = Object.freeze({ ...merged, tokenRetransmit, hold });
  validate(cfg);
  return cfg;
}

function validate(c: SrpConfig): void {
  const positiveInt = (field: keyof SrpConfig, min = 1, max = 0x7fffffff): void => {
    const v = c[field];
    if (!Number.isInteger(v) || v < min || v > max)
      throw new SrpConfigError(field, `must be an integer in ${min}..${max}, got ${v}`);
  };
  for (const f of ['token', 'tokenRetransmit', 'hold', 'join', 'consensus', 'merge'] as const) positiveInt(f);
  positiveInt('failRecvConst');
  positiveInt('seqnoUnchangedConst');
  positiveInt('missCountConst');
  positiveInt('windowSize', 1, 1 << 20);
  positiveInt('maxMessages', 1, 1 << 20);
  positiveInt('startSeq', 0, 0xffffffff);
  positiveInt('queueSize', 16, 1 << 24);
  positiveInt('sendQueueSize', 1, 1 << 24);
  positiveInt('netMtu', 256, 65536);
  if (c.tokenRetransmit >= c.token) throw new SrpConfigError('tokenRetransmit', 'must be below token');
  if (c.hold >= c.tokenRetransmit) throw new SrpConfigError('hold', 'must be below tokenRetransmit');
  if (c.consensus < c.join) throw new SrpConfigError('consensus', 'must be at least join');
  if (c.maxMessages > c.windowSize) throw new SrpConfigError('maxMessages', 'must not exceed windowSize');
  if (c.queueSize < 4 * c.windowSize)
    throw new SrpConfigError('queueSize', 'must hold at least four windows of messages');
}
