/**
 * The part of the plock client (src/client/plock.ts, docs/plock-contract) the plock load uses,
 * as a structural type: the load runs against the real client, and tests may hand it another
 * implementation of the same calls.
 */
import type { LockRange } from './lock-log.js';

export interface PlockTargetLike extends LockRange {
  readonly owner: number;
}

export interface PlockHolderLike {
  readonly space: string;
  readonly inode: number;
  readonly start: number;
  readonly end: number;
  readonly exclusive: boolean;
  readonly nodeId: number;
  readonly owner: number;
}

export interface PlockClientLike {
  lock(t: PlockTargetLike & { exclusive: boolean; wait?: boolean; signal?: AbortSignal }): Promise<void>;
  unlock(t: PlockTargetLike): Promise<void>;
  list(space: string, inode?: number): Promise<PlockHolderLike[]>;
  close(): Promise<void>;
}

export type PlockConnect = (socket: string, name: string) => Promise<PlockClientLike>;

/** The error code of a plock rejection ('WOULD_BLOCK', ...), or undefined. */
export function plockErrorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}
