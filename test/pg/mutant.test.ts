/**
 * The checks must catch the 2008 fault. The packer has a test-only fault switch
 * (src/pg/internal-faults.ts) that decides "more follows" from the piece position when a
 * chunk fills its frame, as openais did; these tests run the same checks with it on and
 * require them to FAIL, and to fail exactly where the original bug bit.
 */

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Cluster, deliveryProblems, makePieces } from './harness.js';
import { fillerFor, runSeedCase, SEED_CASES, SEED_PIECES } from './seed-scenario.js';

const MUTANT = { moreFollowsByPiecePosition: true } as const;

test('mutant: the seed regression fails at every exact fit and only there', () => {
  for (const c of SEED_CASES) {
    const problems = runSeedCase(c, MUTANT);
    if (c.delta === 0) assert.notDeepEqual(problems, [], `mutant not caught for ${JSON.stringify(c)}`);
    else assert.deepEqual(problems, [], `mutant changed a non-exact case ${JSON.stringify(c)}`);
  }
});

test('mutant: without the trailing empty piece the exact fit is harmless (the fault is the empty piece)', () => {
  for (const c of SEED_CASES.filter((x) => x.delta === 0)) {
    const cluster = new Cluster({ members: [1, 2], frameSize: c.frameSize, faults: MUTANT });
    cluster.sendEventually(1, 'a', makePieces([fillerFor(c)], 1));
    cluster.sendEventually(1, 'a', makePieces([4, 1, 352, 7], 2));
    cluster.sendEventually(1, 'a', makePieces([30], 3));
    cluster.ring.settle();
    for (const m of cluster.members.values()) assert.deepEqual(deliveryProblems(m, cluster.sent), []);
  }
});

test('mutant: a glued zero-length follower is refused by the receiver at the first false "more follows"', () => {
  const c = SEED_CASES.find((x) => x.placement === 'spanning' && x.delta === 0)!;
  const cluster = new Cluster({ members: [1, 2, 3], frameSize: c.frameSize, faults: MUTANT });
  cluster.sendEventually(2, 'a', makePieces([fillerFor(c)], 1));
  cluster.sendEventually(2, 'a', makePieces(SEED_PIECES, 2));
  cluster.sendEventually(2, 'a', []);
  cluster.sendEventually(2, 'a', makePieces([5], 4));
  cluster.ring.settle();
  for (const m of cluster.members.values()) {
    // The wire says: seed fragment 1 filled every declared byte yet "more follows", then the
    // empty message arrives as its continuation. openais delivered the seed and silently lost
    // the empty message; here the seed's assembly is refused at once and the glued piece is an
    // orphan: two typed errors, nothing merged, and the message after them is intact.
    const fromSender = m.deliveries.filter((d) => d.sender === 2).map((d) => d.bytes.length);
    assert.deepEqual(fromSender, [fillerFor(c), 5]);
    assert.equal(m.pg.assemblyErrorCounts.get('full-but-unfinished'), 1);
    assert.equal(m.pg.assemblyErrorCounts.get('orphan-continuation'), 1);
    assert.notDeepEqual(deliveryProblems(m, cluster.sent), []);
  }
});
