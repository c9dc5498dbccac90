import { test } from 'node:test';
import { sweepPlock } from './plock-sweep-helper.js';

test('plock sweep: plock-churn seeds 1751..2000, 3..7 nodes, every fault kind, ownership on and off', (t) => {
  sweepPlock(t, 1751, 2000);
});
