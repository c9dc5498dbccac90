/**
 * The 2008 seed scenario: a message whose pieces are 4, 1, 352, 7 and 0 bytes, placed so
 * that its bytes end exactly at the end of a frame (delta 0) or 1..3 bytes short of it
 * (delta < 0) or over it (delta > 0), followed by another message.
 */

import { CONTINUATION_HEADER_BYTES, FRAME_HEADER_BYTES, firstChunkHeaderBytes } from '../../src/pg/frame.js';
import type { PackerFaults } from '../../src/pg/internal-faults.js';
import { Cluster, deliveryProblems, makePieces } from './harness.js';

export const SEED_PIECES = [4, 1, 352, 7, 0] as const;
const SEED_BYTES = SEED_PIECES.reduce<number>((a, b) => a + b, 0);
const GROUP = 'a';
const H = firstChunkHeaderBytes(GROUP.length);

export interface SeedCase {
  /** Frame size (the channel's maxPayload). */
  readonly frameSize: number;
  /** 'single': the seed ends in the frame it starts in; 'spanning': its second fragment ends a frame. */
  readonly placement: 'single' | 'spanning';
  readonly delta: number;
}

/** Filler length that puts the seed's last byte at frame end + delta. */
export function fillerFor(c: SeedCase): number {
  const F = c.frameSize;
  if (c.placement === 'single') return F - FRAME_HEADER_BYTES - 2 * H - SEED_BYTES + c.delta;
  const firstFragment = SEED_BYTES + FRAME_HEADER_BYTES + CONTINUATION_HEADER_BYTES - F - c.delta;
  if (firstFragment < 1 || firstFragment >= SEED_BYTES)
    throw new Error(`no spanning placement for ${F}/${c.delta}`);
  return F - FRAME_HEADER_BYTES - 2 * H - firstFragment;
}

/** Bytes the sender has staged right after the seed, if placement is as intended. */
function expectedStaged(c: SeedCase): number {
  if (c.delta === 0) return 0;
  if (c.delta < 0) return c.frameSize + c.delta;
  return FRAME_HEADER_BYTES + CONTINUATION_HEADER_BYTES + c.delta;
}

export const SEED_CASES: readonly SeedCase[] = [
  ...[-3, -2, -1, 0, 1, 2, 3].map((delta) => ({ frameSize: 1324, placement: 'single' as const, delta })),
  ...[-3, -2, -1, 0, 1, 2, 3].map((delta) => ({ frameSize: 300, placement: 'spanning' as const, delta })),
  ...[-3, -2, -1, 0, 1, 2, 3].map((delta) => ({ frameSize: 380, placement: 'spanning' as const, delta })),
];

/** Runs one case on a three-member ring (node 2 sends). Returns the problems found (none = pass). */
export function runSeedCase(c: SeedCase, faults?: PackerFaults): string[] {
  const cluster = new Cluster({ members: [1, 2, 3], frameSize: c.frameSize, ...(faults ? { faults } : {}) });
  const sender = 2;
  const filler = fillerFor(c);
  if (filler < 0) throw new Error(`case ${JSON.stringify(c)} has no room for a filler`);
  cluster.sendEventually(sender, GROUP, makePieces([filler], 1));
  cluster.sendEventually(sender, GROUP, makePieces(SEED_PIECES, 2));
  const problems: string[] = [];
  const staged = cluster.member(sender).pg.stagedFrameBytes;
  if (staged !== expectedStaged(c)) {
    problems.push(`placement: staged ${staged} bytes after the seed, expected ${expectedStaged(c)}`);
  }
  cluster.sendEventually(sender, GROUP, makePieces([10, 0, 20], 3));
  cluster.ring.settle();
  for (const member of cluster.members.values()) {
    problems.push(...deliveryProblems(member, cluster.sent, [1, 2, 3]));
    const s = member.pg.stats;
    if (s.assemblyErrors + s.badFrames + s.chunksSkipped > 0) {
      problems.push(`node ${member.id}: ${s.assemblyErrors} assembly errors, ${s.badFrames} bad frames`);
    }
  }
  return problems;
}
