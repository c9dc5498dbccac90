import { test } from 'node:test';
import { sweepSrpPg } from './pg-sweep-helper.js';

test('srp+pg sweep: seeds 1..250, 3..7 nodes, every fault kind, app invariants and fplay check', (t) => {
  sweepSrpPg(t, 1, 250);
});
