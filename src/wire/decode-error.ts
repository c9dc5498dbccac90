/** Why a decoder refused its input. Stable strings: tests and records match on them. */
export type DecodeErrorCode =
  | 'truncated'
  | 'bad-magic'
  | 'bad-version'
  | 'bad-type'
  | 'bad-length'
  | 'bad-count'
  | 'bad-value'
  | 'trailing-bytes';

/** The only error a decoder may throw. */
export class DecodeError extends Error {
  override readonly name = 'DecodeError';
  constructor(
    readonly code: DecodeErrorCode,
    readonly what: string,
    readonly offset: number,
  ) {
    super(`${what}: ${code} at byte ${offset}`);
  }
}

/** Maps an error code to a small number for flight-recorder arguments. */
export const DECODE_ERROR_CODES: readonly DecodeErrorCode[] = [
  'truncated',
  'bad-magic',
  'bad-version',
  'bad-type',
  'bad-length',
  'bad-count',
  'bad-value',
  'trailing-bytes',
];
