import { test } from 'node:test';
import { sweepSrp } from './sweep-helper.js';

test('srp sweep: seeds 1001..2000, 3..7 nodes, every fault kind, every invariant', (t) => {
  sweepSrp(t, 1001, 2000);
});
