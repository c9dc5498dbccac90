/** Timer ids the SRP core arms through Host.setTimer. */
export const SrpTimer = {
  /** No token within `token` ms. */
  TokenLoss: 1,
  /** Resend the last token sent. */
  TokenRetransmit: 2,
  /** Re-send the join while gathering. */
  Join: 3,
  /** Give up waiting for agreement. */
  Consensus: 4,
  /** Idle representative announces its ring. */
  MergeDetect: 5,
  /** Release a held token. */
  Hold: 6,
  /** A one-member ring passes its token to itself through the timer queue, not the stack. */
  SelfToken: 7,
} as const;
export type SrpTimer = (typeof SrpTimer)[keyof typeof SrpTimer];
