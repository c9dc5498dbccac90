/**
 * Real daemons on loopback: forming rings, kill -9 and restart, graceful leave.
 * Token 400 ms, consensus 480 ms: a lost node is noticed within token + consensus.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DaemonCluster, sleep } from './daemons.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const clusters: DaemonCluster[] = [];
after(async () => {
  for (const c of clusters) await c.destroy();
});

async function cluster(size: number): Promise<DaemonCluster> {
  const c = await DaemonCluster.create({ size });
  clusters.push(c);
  return c;
}

test('3 daemons form one ring and deliver the same messages in the same order', async () => {
  const c = await cluster(3);
  const formed = await c.ring([1, 2, 3], 10_000);
  assert.equal(formed[0]!.members.length, 3);
  await c.load([1, 2, 3], 300, 100);
  await c.delivered([1, 2, 3], 900, 15_000);
  const s = await c.settled([1, 2, 3], 10_000);
  assert.equal(new Set(s.map((x) => x.load.ringHash)).size, 1, 'same order everywhere');
  for (const x of s) assert.deepEqual(x.load.bySender, { 1: 300, 2: 300, 3: 300 });
  await c.destroy();
});

test('5 daemons: kill -9 one, the rest re-form within token + consensus and keep delivering; restarted, it rejoins', async () => {
  const c = await cluster(5);
  const first = await c.ring([1, 2, 3, 4, 5], 15_000);
  const before = first[0]!.ringId;

  await c.kill9(3);
  const killedAt = Date.now();
  const rest = [1, 2, 4, 5];
  // Detection takes token + consensus; the new ring then needs a commit-token rotation.
  const bound = c.token + c.consensus + 1500;
  const reformed = await c.ring(rest, bound);
  const took = Date.now() - killedAt;
  assert.ok(reformed[0]!.ringId.seq > before.seq, 'a new ring');
  const last = reformed[0]!.lastConfiguration!;
  assert.equal(last.kind, 'regular');
  assert.deepEqual(last.members, rest);
  process.stdout.write(`# kill -9 to new ring: ${took} ms (token ${c.token}, consensus ${c.consensus})\n`);

  await c.load(rest, 200, 300);
  await c.delivered(rest, 800, 15_000);
  const s = await c.settled(rest, 10_000);
  assert.equal(new Set(s.map((x) => x.load.ringHash)).size, 1);

  c.start(3);
  const back = await c.ring([1, 2, 3, 4, 5], 15_000);
  assert.ok(back[0]!.ringId.seq > reformed[0]!.ringId.seq);
  const restarted = back.find((x) => x.nodeId === 3)!;
  // Its ring ids never go backwards: the stored ring seq was loaded at start.
  assert.ok(restarted.ringId.seq > before.seq);
  await c.load([3], 100, 50);
  await c.delivered([1, 2, 3, 4, 5], 100, 15_000);
  const after5 = await c.settled([1, 2, 3, 4, 5], 10_000);
  assert.equal(new Set(after5.map((x) => x.load.ringHash)).size, 1);

  // The rings of all six processes (the killed one's salvaged as fdata-*) replay clean.
  for (const n of c.nodes) assert.equal(await c.terminate(n), 'SIGTERM');
  const check = spawnSync(process.execPath, [MAIN, 'fplay', 'check', c.layout.ringDir], { encoding: 'utf8' });
  assert.equal(check.status, 0, check.stdout + check.stderr);
  assert.match(check.stdout, /checked 6 ring\(s\)/);
  assert.match(check.stdout, /check: clean/);
  await c.destroy();
});

test('SIGTERM: the node leaves and the others re-form at once, not after a token timeout', async () => {
  // A long token makes the difference plain: noticing a silent node would take token + consensus = 2.2 s.
  const c = await DaemonCluster.create({ size: 3, token: 1000 });
  clusters.push(c);
  await c.ring([1, 2, 3], 10_000);
  const t0 = Date.now();
  const stopping = c.terminate(2);
  const s = await c.ring([1, 3], 5_000);
  const took = Date.now() - t0;
  assert.equal(await stopping, 'SIGTERM', 'exited on SIGTERM within the bound');
  process.stdout.write(`# SIGTERM to new ring: ${took} ms (token ${c.token}, consensus ${c.consensus})\n`);
  assert.ok(
    took < c.token,
    `re-formed in ${took} ms, before the token timeout (${c.token} ms) could even fire`,
  );
  assert.deepEqual(s[0]!.lastConfiguration!.members, [1, 3]);
  await sleep(100);
  assert.ok(c.logs(2, 5).includes('stopped (exit 0)'), c.logs(2));
  await c.destroy();
});
