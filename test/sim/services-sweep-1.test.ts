import { test } from 'node:test';
import { sweepServices } from './services-sweep-helper.js';

test('services sweep: seeds 1..500, 3..7 nodes, every fault kind, ckpt load, sync and ckpt invariants', (t) => {
  sweepServices(t, 1, 500);
});
