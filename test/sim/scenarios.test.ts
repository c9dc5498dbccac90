import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runSimulation, type SimRunResult } from '../../src/sim/run.js';
import { SCENARIOS, scenarioByName } from '../../src/sim/scenarios.js';
import { makeSrpCore } from '../../src/sim/srp-core.js';

/** Evidence that each scenario really produced the situation it is named after. */
const EVIDENCE: Record<string, (r: SimRunResult, c: Record<string, number>) => void> = {
  'received-flg': (_r, c) => assert.ok(c.recoveryOriginated! > 0, 'old-ring messages were re-originated'),
  'retransmitted-token': (_r, c) => {
    assert.ok(c.tokenRetransmits! > 10, 'tokens were retransmitted');
    assert.ok(c['packetsDropped.retransmitted-token']! > 10, 'late token copies were rejected');
  },
  'join-in-commit': (r) =>
    assert.ok(r.world.scenarioCounts.joinsToCommit! > 0, 'joins reached nodes in COMMIT'),
  'recovery-flood': (_r, c) => assert.ok(c.recoveryOriginated! >= 1000, `recovered ${c.recoveryOriginated}`),
  'rtr-beyond-queue': (_r, c) => assert.ok(c.retransmitRequests! > 1000, 'long retransmission lists'),
  'unstable-membership': (r, c) => {
    assert.ok(r.configurations > 40);
    assert.ok(c.tokenLosses! + c.consensusTimeouts! > 5);
  },
  'pause-storm': (r, c) => {
    assert.ok(r.faultCounts.pauses! >= 8);
    assert.ok(c.tokenLosses! > 0);
  },
  'asymmetric-ring': (r, c) => {
    assert.equal(r.faultCounts.asymmetric, 2);
    assert.ok(c.retransmitRequests! > 0);
  },
  'mcast-behind-token': (_r, c) => assert.ok(c.retransmitRequests! > 0),
  'seq-rollover': (r) => assert.ok(r.world.checker.seqWraps > 0, 'sequence numbers wrapped past 2^32'),
  'pg-frame-boundary': (r, c) => {
    assert.ok(c.boundaryShaped! > 500, 'messages aimed at frame ends');
    assert.ok(r.faultCounts.leaves! > 0 && r.faultCounts.restarts! > 3, 'members left and came back');
  },
};

for (const sc of SCENARIOS) {
  test(`scenario ${sc.name}: ${sc.summary}`, () => {
    const evidence = EVIDENCE[sc.name];
    assert.ok(evidence, `scenario ${sc.name} has no evidence check`);
    const r = runSimulation({ ...sc.build(1, makeSrpCore), recorderSlots: 256 });
    assert.equal(r.violation, undefined, JSON.stringify(r.violation));
    evidence(r, r.world.coreCounters());
  });
}

test('a scenario is deterministic: the same seed gives the same trace', () => {
  const sc = scenarioByName('unstable-membership')!;
  const a = runSimulation({ ...sc.build(7, makeSrpCore), recorderSlots: 256 });
  const b = runSimulation({ ...sc.build(7, makeSrpCore), recorderSlots: 256 });
  assert.equal(a.traceHash, b.traceHash);
  assert.equal(a.events, b.events);
});
