/**
 * AIS error codes (SaAisErrorT, SA Forum AIS B.01) and the typed errors the checkpoint
 * service answers with. The numeric values are the AIS ones, so an IPC layer can pass
 * them to C clients unchanged.
 */

export const AisError = {
  OK: 1,
  LIBRARY: 2,
  VERSION: 3,
  INIT: 4,
  TIMEOUT: 5,
  TRY_AGAIN: 6,
  INVALID_PARAM: 7,
  NO_MEMORY: 8,
  BAD_HANDLE: 9,
  BUSY: 10,
  ACCESS: 11,
  NOT_EXIST: 12,
  NAME_TOO_LONG: 13,
  EXIST: 14,
  NO_SPACE: 15,
  INTERRUPT: 16,
  NAME_NOT_FOUND: 17,
  NO_RESOURCES: 18,
  NOT_SUPPORTED: 19,
  BAD_OPERATION: 20,
  FAILED_OPERATION: 21,
  MESSAGE_ERROR: 22,
  QUEUE_FULL: 23,
  QUEUE_NOT_AVAILABLE: 24,
  BAD_FLAGS: 25,
  TOO_BIG: 26,
  NO_SECTIONS: 27,
} as const;
export type AisErrorName = keyof typeof AisError;
export type AisErrorCode = (typeof AisError)[AisErrorName];

const NAMES = new Map<number, AisErrorName>(Object.entries(AisError).map(([k, v]) => [v, k as AisErrorName]));

export function aisErrorName(code: number): AisErrorName | undefined {
  return NAMES.get(code);
}

/** A request failed with an AIS error code. Carried in replies, never thrown across the core. */
export class CkptError extends Error {
  override readonly name = 'CkptError';
  readonly aisName: AisErrorName;
  constructor(
    readonly code: Exclude<AisErrorCode, 1>,
    readonly detail = '',
  ) {
    const aisName = aisErrorName(code) ?? 'LIBRARY';
    super(`SA_AIS_ERR_${aisName}${detail ? `: ${detail}` : ''}`);
    this.aisName = aisName;
  }
}

/** Why a checkpoint sync message broke the protocol; every member sees the same one. */
export type CkptSyncErrorCode =
  | 'dangling-section'
  | 'not-a-sender'
  | 'after-end'
  | 'section-count'
  | 'checkpoint-count'
  | 'duplicate-checkpoint'
  | 'duplicate-section'
  | 'duplicate-hello'
  | 'not-a-member'
  | 'undecodable';

export const CKPT_SYNC_ERROR_CODES: readonly CkptSyncErrorCode[] = [
  'dangling-section',
  'not-a-sender',
  'after-end',
  'section-count',
  'checkpoint-count',
  'duplicate-checkpoint',
  'duplicate-section',
  'duplicate-hello',
  'not-a-member',
  'undecodable',
];

/** A typed protocol error found while receiving a sync database: the round is aborted. */
export class CkptSyncProtocolError extends Error {
  override readonly name = 'CkptSyncProtocolError';
  constructor(
    readonly code: CkptSyncErrorCode,
    readonly sender: number,
    detail: string,
  ) {
    super(`ckpt sync: ${code} from node ${sender}: ${detail}`);
  }
}
