/** Thrown when a sync invariant is broken: a bug, never a condition caused by input. */
export class SyncInvariantError extends Error {
  override readonly name = 'SyncInvariantError';
}

export function assert(ok: boolean, why: string): asserts ok {
  if (!ok) throw new SyncInvariantError(`sync: ${why}`);
}
