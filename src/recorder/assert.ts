import { EV } from './events/index.js';
import type { Recorder } from './recorder.js';

/** A broken invariant: a bug, never bad input. The ring holds what led here. */
export class InvariantError extends Error {
  override readonly name = 'InvariantError';
}

/**
 * Checks an invariant. On failure: records an ASSERT event (message interned, up to three
 * numbers as witnesses), makes sure the ring is on disk, and throws InvariantError.
 */
export function check(
  recorder: Recorder,
  condition: unknown,
  message: string,
  a = 0,
  b = 0,
  c = 0,
): asserts condition {
  if (condition) return;
  recorder.rec(EV.REC_ASSERT, recorder.intern(message), a, b, c);
  try {
    recorder.onFailure?.();
  } catch {
    // The dump is best effort: the assertion itself must still be raised.
  }
  throw new InvariantError(`${message} (${a}, ${b}, ${c})`);
}
