/**
 * Result codes carried in every IPC reply. Numbers are the wire values and the indices of the
 * recorder enum `ipcError` (src/recorder/events/enums.ts): append only.
 */
export const ErrorCode = {
  OK: 0,
  /** Temporarily refused (send queue full, sync in progress, leave still in flight): retry. */
  TRY_AGAIN: 1,
  INVALID_PARAM: 2,
  NOT_EXIST: 3,
  EXIST: 4,
  BAD_HANDLE: 5,
  ACCESS: 6,
  NO_MEMORY: 7,
  /** The client library itself failed (connection lost, closed, aborted). */
  LIBRARY: 8,
  /** The peer broke the protocol (malformed, oversized, unknown request, no handshake). */
  PROTOCOL: 9,
  BUSY: 10,
  NAME_TOO_LONG: 11,
  TOO_BIG: 12,
  NOT_SUPPORTED: 13,
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];
export type ErrorName = keyof typeof ErrorCode;

const NAMES = new Map<number, ErrorName>(
  Object.entries(ErrorCode).map(([name, code]) => [code, name as ErrorName]),
);

export function errorName(code: number): ErrorName | `UNKNOWN_${number}` {
  return NAMES.get(code) ?? `UNKNOWN_${code}`;
}

export function isErrorCode(code: number): code is ErrorCode {
  return NAMES.has(code);
}

/** A refused or failed IPC request, on either side. `code` is stable; match on it. */
export class TotemError extends Error {
  override readonly name = 'TotemError';
  readonly codeName: string;
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(`${errorName(code)}: ${message}`);
    this.codeName = errorName(code);
  }
}
