/** Thrown when a pg invariant is broken: a bug, never a condition caused by input. */
export class PgInvariantError extends Error {
  override readonly name = 'PgInvariantError';
}

export function assert(ok: boolean, why: string): asserts ok {
  if (!ok) throw new PgInvariantError(`pg: ${why}`);
}
