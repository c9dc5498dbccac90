import { test } from 'node:test';
import { sweepPlock } from './plock-sweep-helper.js';

test('plock sweep: plock-churn seeds 251..500, 3..7 nodes, every fault kind, ownership on and off', (t) => {
  sweepPlock(t, 251, 500);
});
