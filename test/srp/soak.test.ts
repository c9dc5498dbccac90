import { test } from 'node:test';
import { soak } from './soak.js';

// Random crashes, restarts, leaves, partitions and heals under loss; every run ends with a
// stable ring and the extended-virtual-synchrony invariants checked over every node's stream.
for (const [from, to, loss, nodes, maxLatency, hard] of [
  [0, 8, 0.05, 5, 0.6, false],
  [100, 106, 0.15, 4, 0.6, false],
  [200, 204, 0.02, 7, 0.6, false],
  [300, 306, 0.05, 5, 15, true],
] as const) {
  const extra = hard ? ', asymmetric links, pauses, slow packets' : '';
  test(`random fault soak seeds ${from}..${to - 1}, ${nodes} nodes, loss ${loss}${extra}`, () => {
    for (let seed = from; seed < to; seed++)
      soak({
        seed,
        nodes,
        steps: 30,
        loss,
        maxLatency,
        asymmetric: hard,
        pauses: hard,
        startSeq: seed % 2 ? 0xffffff00 : 0,
      });
  });
}
