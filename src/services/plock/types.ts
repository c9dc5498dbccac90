/** The plock service's public types: requests, replies, lock records. Ranges are inclusive. */

import type { NodeId } from '../../core/io.js';

/** A client of this node (the IPC layer maps connections to ids). */
export type ClientId = number;

/** "To end of file" (POSIX l_len = 0): the largest offset the wire carries. */
export const PLOCK_EOF = Number.MAX_SAFE_INTEGER;
/** Lock space names travel as u16-length UTF-8; like a file system name, they stay short. */
export const MAX_SPACE_BYTES = 64;

/** Who holds a lock: the cluster-wide identity of a POSIX lock owner. */
export interface OwnerId {
  readonly nodeId: NodeId;
  readonly client: ClientId;
  /** Chosen by the client (like a pid), u32. */
  readonly owner: number;
}

/** A granted lock on one resource. */
export interface LockRecord extends OwnerId {
  readonly start: number;
  readonly end: number;
  readonly exclusive: boolean;
}

/** A blocked F_SETLKW request, granted in arrival (ring) order. */
export interface WaiterRecord extends LockRecord {
  /** The request id at its origin node (`nodeId`): the origin answers it when granted. */
  readonly reqId: number;
}

/** One granted lock as reported to clients (`test`, `list`). */
export interface PlockHolder {
  readonly space: string;
  readonly inode: number;
  readonly start: number;
  readonly end: number;
  readonly exclusive: boolean;
  readonly nodeId: NodeId;
  readonly owner: number;
}

export interface PlockRange {
  readonly space: string;
  readonly inode: number;
  readonly start: number;
  readonly end: number;
  readonly owner: number;
}

/** A client request; `reqId` is unique per client among its outstanding requests, echoed in the reply. */
export type PlockRequest =
  | (PlockRange & { kind: 'lock'; reqId: number; exclusive: boolean; wait: boolean })
  | (PlockRange & { kind: 'unlock'; reqId: number })
  | (PlockRange & { kind: 'test'; reqId: number; exclusive: boolean })
  /** Cancels the client's waiting lock request `target` (the reqId of that lock). */
  | { kind: 'cancel'; reqId: number; target: number }
  | { kind: 'list'; reqId: number; space: string; inode?: number };

export type PlockRequestKind = PlockRequest['kind'];

export type PlockErrorCode =
  | 'WOULD_BLOCK'
  | 'CANCELLED'
  | 'INVALID_PARAM'
  | 'TRY_AGAIN'
  | 'NO_SPACE'
  | 'DUPLICATE_REQUEST'
  | 'LOST';

export const PLOCK_ERROR_CODES: readonly PlockErrorCode[] = [
  'WOULD_BLOCK',
  'CANCELLED',
  'INVALID_PARAM',
  'TRY_AGAIN',
  'NO_SPACE',
  'DUPLICATE_REQUEST',
  'LOST',
];

/** A request failed. Carried in replies, never thrown across the core. */
export class PlockServiceError extends Error {
  override readonly name = 'PlockServiceError';
  constructor(
    readonly code: PlockErrorCode,
    readonly detail = '',
  ) {
    super(`${code}${detail ? `: ${detail}` : ''}`);
  }
}

/** The answer to one request. `error` absent means success. */
export interface PlockReply {
  readonly client: ClientId;
  readonly reqId: number;
  readonly kind: PlockRequestKind;
  readonly error?: PlockServiceError;
  /** test: the conflicting lock, if any. */
  readonly holder?: PlockHolder;
  /** list: every granted lock this node knows. */
  readonly holders?: PlockHolder[];
  /** cancel: true when the wait was cancelled (false: it was granted or gone already). */
  readonly cancelled?: boolean;
}
