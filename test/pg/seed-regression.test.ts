import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Cluster, deliveryProblems, makePieces } from './harness.js';
import { runSeedCase, SEED_CASES, SEED_PIECES } from './seed-scenario.js';

for (const c of SEED_CASES) {
  test(`seed 4,1,352,7,0 ends at frame end ${c.delta >= 0 ? '+' : ''}${c.delta} (${c.placement}, frame ${c.frameSize}): both messages delivered intact everywhere`, () => {
    assert.deepEqual(runSeedCase(c), []);
  });
}

test('seed message alone with no filler and no follower, then flushed by a token visit', () => {
  const cluster = new Cluster({ members: [1, 2] });
  cluster.sendEventually(1, 'a', makePieces(SEED_PIECES, 9));
  cluster.ring.settle();
  for (const m of cluster.members.values()) assert.deepEqual(deliveryProblems(m, cluster.sent), []);
});
