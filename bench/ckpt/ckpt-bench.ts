/**
 * Checkpoint service figures on the loopback ordering layer (three replicas plus a joiner, one
 * process, recorders on). Figures only, never pass/fail.
 *
 *   node dist/bench/ckpt/ckpt-bench.js [--json] [--sections 2000] [--size 256]
 *
 * - updates/s: section overwrites from one node, each applied by every replica (3×), with
 *   the ring rotated between batches.
 * - sync: the time and sync messages to bring a fresh node up to date with a database of
 *   `--sections` sections of `--size` bytes (a quarter of them empty).
 */

import { performance } from 'node:perf_hooks';
import { TIME_END } from '../../src/services/ckpt/types.js';
import { ATTRS, bytes, CkptCluster, RW_CREATE } from '../../test/ckpt/cluster.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const sections = arg('sections', 2000);
const size = arg('size', 256);
const json = process.argv.includes('--json');

const c = new CkptCluster([1, 2, 3], 256);
const attrs = {
  ...ATTRS,
  maxSections: sections + 1,
  maxSectionSize: 4096,
  checkpointSize: (sections + 1) * 4096,
};
const h = c.open(1, 1, 'bench', RW_CREATE, attrs);
let t0 = performance.now();
for (let i = 0; i < sections; i++) {
  const data = i % 4 === 0 ? new Uint8Array(0) : new Uint8Array(size).fill(i & 0xff);
  c.send(1, 1, {
    kind: 'sectionCreate',
    handle: h,
    sectionId: bytes(`section-${i}`),
    expirationTime: TIME_END,
    initialData: data,
  });
  if (i % 64 === 63) c.settle();
}
c.settle();
const createMs = performance.now() - t0;

const updates = 20_000;
const payload = new Uint8Array(size).fill(7);
t0 = performance.now();
for (let i = 0; i < updates; i++) {
  c.send(1, 1, {
    kind: 'overwrite',
    handle: h,
    sectionId: bytes(`section-${(i % (sections - 1)) + 1}`),
    data: payload,
  });
  if (i % 64 === 63) c.settle();
}
c.settle();
const updateMs = performance.now() - t0;
const failed = c.node(1).replies.filter((r) => r.error).length;

c.start(4);
const before = c.node(1).pg.stats.messagesSent;
t0 = performance.now();
c.net.reconfigure([[1, 2, 3, 4]]);
c.settle();
const syncMs = performance.now() - t0;
const syncMessages = c.node(1).pg.stats.messagesSent - before;
const agree = new Set(c.live().map((n) => n.ckpt.database.dump())).size === 1;

const result = {
  sections,
  sectionSize: size,
  createPerSec: Math.round(sections / (createMs / 1000)),
  updatesPerSec: Math.round(updates / (updateMs / 1000)),
  updateErrors: failed,
  syncMs: Math.round(syncMs),
  syncMessagesFromSender: syncMessages,
  syncSectionsPerSec: Math.round(sections / (syncMs / 1000)),
  replicasAgree: agree,
};
if (json) console.log(JSON.stringify(result));
else for (const [k, v] of Object.entries(result)) console.log(`${k.padEnd(24)} ${v}`);
