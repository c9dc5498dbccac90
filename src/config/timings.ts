/**
 * Protocol timeouts: defaults, the values derived from `token`, and the rules between them.
 *
 * Defaults are whitetank's (token 1000 ms) with corosync's later constants
 * (fail_recv_const 2500, miss_count_const 5) and its documented rules:
 * - token_coefficient: with 3 or more configured nodes the token timeout in use is
 *   token + (nodes − 2) × token_coefficient (650 ms by default; 0 disables it);
 * - token_retransmit = token / (token_retransmits_before_loss_const + 0.2), truncated;
 * - hold = token_retransmit × 0.8 − 10 (corosync's 1000/HZ with HZ = 100), truncated;
 * - consensus = 1.2 × token, and a written consensus must be at least that;
 * - no timeout below 30 ms (3 × 1000/HZ).
 * Derived values use the token in use (after the coefficient), as corosync does.
 *
 * Pure: the simulator uses it to build the same timings the daemon would.
 */
import type { TotemTimings } from './types.js';

export const MINIMUM_TIMEOUT_MS = 30;

export const TIMING_DEFAULTS = {
  token: 1000,
  tokenCoefficient: 650,
  tokenRetransmitsBeforeLossConst: 4,
  join: 50,
  sendJoin: 0,
  merge: 200,
  downcheck: 1000,
  failRecvConst: 2500,
  seqnoUnchangedConst: 30,
  missCountConst: 5,
  maxNetworkDelay: 50,
  windowSize: 50,
  maxMessages: 17,
} as const;

/** What a file (or a simulator scenario) may set; anything left out gets its default. */
export interface TimingInput {
  readonly token?: number;
  readonly tokenCoefficient?: number;
  readonly tokenRetransmit?: number;
  readonly tokenRetransmitsBeforeLossConst?: number;
  readonly hold?: number;
  readonly join?: number;
  readonly sendJoin?: number;
  readonly consensus?: number;
  readonly merge?: number;
  readonly downcheck?: number;
  readonly failRecvConst?: number;
  readonly seqnoUnchangedConst?: number;
  readonly missCountConst?: number;
  readonly maxNetworkDelay?: number;
  readonly windowSize?: number;
  readonly maxMessages?: number;
}

/** The corosync.conf key of each timing field. */
export const TIMING_KEYS: Readonly<Record<keyof TimingInput, string>> = {
  token: 'token',
  tokenCoefficient: 'token_coefficient',
  tokenRetransmit: 'token_retransmit',
  tokenRetransmitsBeforeLossConst: 'token_retransmits_before_loss_const',
  hold: 'hold',
  join: 'join',
  sendJoin: 'send_join',
  consensus: 'consensus',
  merge: 'merge',
  downcheck: 'downcheck',
  failRecvConst: 'fail_recv_const',
  seqnoUnchangedConst: 'seqno_unchanged_const',
  missCountConst: 'miss_count_const',
  maxNetworkDelay: 'max_network_delay',
  windowSize: 'window_size',
  maxMessages: 'max_messages',
};

/** Applies defaults and derivations. `nodeCount` is the size of the configured node list. */
export function resolveTimings(input: TimingInput, nodeCount: number): TotemTimings {
  const d = TIMING_DEFAULTS;
  const tokenBase = input.token ?? d.token;
  const tokenCoefficient = input.tokenCoefficient ?? d.tokenCoefficient;
  const token = nodeCount >= 3 ? tokenBase + (nodeCount - 2) * tokenCoefficient : tokenBase;
  const retransmits = input.tokenRetransmitsBeforeLossConst ?? d.tokenRetransmitsBeforeLossConst;
  const tokenRetransmit = input.tokenRetransmit ?? Math.trunc(token / (retransmits + 0.2));
  const hold = input.hold ?? Math.trunc(tokenRetransmit * 0.8 - 10);
  return {
    token,
    tokenBase,
    tokenCoefficient,
    tokenRetransmit,
    tokenRetransmitsBeforeLossConst: retransmits,
    hold,
    join: input.join ?? d.join,
    sendJoin: input.sendJoin ?? d.sendJoin,
    // Rounded up so that the default always satisfies the 1.2 × token rule.
    consensus: input.consensus ?? Math.ceil((token * 6) / 5),
    merge: input.merge ?? d.merge,
    downcheck: input.downcheck ?? d.downcheck,
    failRecvConst: input.failRecvConst ?? d.failRecvConst,
    seqnoUnchangedConst: input.seqnoUnchangedConst ?? d.seqnoUnchangedConst,
    missCountConst: input.missCountConst ?? d.missCountConst,
    maxNetworkDelay: input.maxNetworkDelay ?? d.maxNetworkDelay,
    windowSize: input.windowSize ?? d.windowSize,
    maxMessages: input.maxMessages ?? d.maxMessages,
  };
}

export interface TimingProblem {
  /** The field to blame. */
  readonly field: keyof TimingInput;
  readonly detail: string;
}

/**
 * The rules between timings, in a fixed order. `written` names the fields the user set, so
 * that a derived value that breaks a rule says where it came from.
 */
export function timingProblems(t: TotemTimings, written: ReadonlySet<keyof TimingInput>): TimingProblem[] {
  const out: TimingProblem[] = [];
  const derivedNote = (field: keyof TimingInput): string =>
    written.has(field) ? '' : ` (derived from token ${t.token} ms; raise token or set ${TIMING_KEYS[field]})`;
  const minimum: (keyof TimingInput)[] = [
    'token',
    'tokenRetransmit',
    'hold',
    'join',
    'consensus',
    'merge',
    'downcheck',
    'maxNetworkDelay',
  ];
  for (const field of minimum) {
    const v = t[field];
    if (v < MINIMUM_TIMEOUT_MS) {
      out.push({ field, detail: `must be at least ${MINIMUM_TIMEOUT_MS} ms, got ${v}${derivedNote(field)}` });
    }
  }
  if (out.length > 0) return out;
  if (t.tokenRetransmit >= t.token) {
    out.push({
      field: 'tokenRetransmit',
      detail: `must be less than token (${t.token} ms), got ${t.tokenRetransmit}`,
    });
  }
  if (t.hold >= t.tokenRetransmit) {
    out.push({
      field: 'hold',
      detail: `must be less than token_retransmit (${t.tokenRetransmit} ms), got ${t.hold}`,
    });
  }
  if (t.consensus < t.join) {
    out.push({ field: 'consensus', detail: `must be at least join (${t.join} ms), got ${t.consensus}` });
  } else if (t.consensus * 5 < t.token * 6) {
    const coefficientNote = t.token !== t.tokenBase ? ', token including token_coefficient' : '';
    out.push({
      field: 'consensus',
      detail: `must be at least 1.2 × token (${formatMs((t.token * 6) / 5)} ms${coefficientNote}), got ${t.consensus}`,
    });
  }
  if (t.maxMessages > t.windowSize) {
    out.push({
      field: 'maxMessages',
      detail: `must not exceed window_size (${t.windowSize}), got ${t.maxMessages}`,
    });
  }
  return out;
}

function formatMs(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(1);
}
