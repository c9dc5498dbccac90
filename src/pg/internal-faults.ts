/**
 * Test-only fault injection for the pg sender. Not exported from src/pg/index.ts nor from the
 * package entry: only tests import this module, to prove that the checks catch the fault.
 */

export interface PackerFaults {
  /**
   * Reproduces the 2008 openais fault (RHBZ 441413): when a chunk fills its frame exactly,
   * decide "more of this message follows" from the position in the piece list ("not the last
   * piece, or bytes left in this piece") instead of from the bytes left. A trailing empty
   * piece then marks a finished message as continued, and the next message's bytes are sent
   * as the continuation of the finished one.
   */
  readonly moreFollowsByPiecePosition?: boolean;
}

/** Option key under which ProcessGroups accepts PackerFaults. */
export const PACKER_FAULTS: unique symbol = Symbol('pg.packerFaults');
