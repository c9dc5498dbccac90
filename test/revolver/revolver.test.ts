import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { writeFailureReadme } from '../../src/revolver/failure-report.js';
import { runRevolver } from '../../src/revolver/revolver.js';
import { alive } from '../../src/runtime/cluster.js';

function daemonsOf(dir: string): number[] {
  // Every daemon started in `dir` (its command line names its configuration there).
  const pids: number[] = [];
  for (const p of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      if (readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(dir)) pids.push(Number(p));
    } catch {
      // Exited meanwhile.
    }
  }
  return pids.filter(alive);
}

test('revolver (ckpt load): 3 nodes, 6 iterations of kill -9 and restart, every check clean, nothing left running', {
  timeout: 240_000,
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rv-'));
  try {
    const r = await runRevolver({
      nodes: 3,
      iterations: 6,
      kill: { min: 1, max: 2 },
      load: 'ckpt',
      seed: 5,
      dir: join(dir, 'c'),
      token: 400,
      ringCheckEvery: 3,
      stuckMs: 60_000,
      recoveryBoundMs: 60_000,
    });
    assert.equal(r.failure, undefined, JSON.stringify(r.failure));
    assert.equal(r.iterationsDone, 6);
    assert.ok(r.kills >= 6);
    assert.equal(r.restartRecoveryMs.length, 6);
    assert.ok(r.counters.ops > 100, `ops ${r.counters.ops}`);
    assert.equal(r.counters.errors, 0);
    assert.ok(r.ringChecks >= 3 && r.ringsChecked > 3);
    assert.deepEqual(daemonsOf(join(dir, 'c')), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a failing revolver run stops, kills what it started, and keeps rings, logs, seed and a README', {
  timeout: 120_000,
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rv-'));
  try {
    const r = await runRevolver({
      nodes: 3,
      iterations: 5,
      kill: { min: 1, max: 1 },
      load: 'ckpt',
      seed: 9,
      dir: join(dir, 'c'),
      token: 400,
      ringCheckEvery: 10,
      stuckMs: 60_000,
      recoveryBoundMs: 60_000,
      afterIteration: (i) => (i === 2 ? [{ kind: 'replica', message: 'planted failure' }] : []),
    });
    assert.ok(r.failure);
    assert.equal(r.failure.iteration, 2);
    assert.equal(r.iterationsDone, 1);
    assert.deepEqual(r.failure.findings, ['replica: planted failure']);
    const readme = writeFailureReadme(r, 'npx totem revolver --seed 9');
    const text = readFileSync(readme, 'utf8');
    assert.match(text, /Seed 9; failed in iteration 2/);
    assert.match(text, /planted failure/);
    assert.match(text, /npx totem fplay check .*state\/rings/);
    assert.equal(readFileSync(join(r.dir, 'SEED'), 'utf8'), '9\n');
    const rings = r.ringDirs.flatMap((d) => readdirSync(d).filter((n) => n.endsWith('.ring')));
    assert.ok(rings.length >= 4, `rings kept: ${rings}`); // 3 live + at least the 2 killed
    assert.ok(existsSync(join(r.dir, 'node-1.log')));
    assert.deepEqual(daemonsOf(join(dir, 'c')), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
