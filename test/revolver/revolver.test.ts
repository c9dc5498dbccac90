import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadPlockConnect } from '../../src/load/plock-connect.js';
import { PlockLoad } from '../../src/load/plock-load.js';
import { writeFailureReadme } from '../../src/revolver/failure-report.js';
import { type RevolverOptions, runRevolver } from '../../src/revolver/revolver.js';
import { alive } from '../../src/runtime/cluster.js';

/** Every process whose command line names `dir` (the daemons of a cluster living there). */
function processesIn(dir: string): number[] {
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

async function revolver(dir: string, over: Partial<RevolverOptions>) {
  return runRevolver({
    nodes: 3,
    iterations: 10,
    kill: { min: 1, max: 2 },
    load: 'plock',
    seed: 5,
    dir: join(dir, 'c'),
    token: 400,
    ringCheckEvery: 5,
    stuckMs: 60_000,
    recoveryBoundMs: 60_000,
    plockConnect: await loadPlockConnect(),
    ...over,
  });
}

test('revolver (plock load): 3 nodes, 10 iterations of kill -9 and restart, every check clean, nothing left running', {
  timeout: 300_000,
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rv-'));
  try {
    const r = await revolver(dir, {});
    assert.equal(r.failure, undefined, JSON.stringify(r.failure));
    assert.equal(r.iterationsDone, 10);
    assert.ok(r.kills >= 10);
    assert.equal(r.restartRecoveryMs.length, 10);
    assert.ok(r.killRecoveryMs.length > 0);
    const c = r.counters;
    assert.ok(c.grants! > 200 && c.releases! > 200, JSON.stringify(c));
    assert.equal(c.errors, 0);
    assert.ok(r.ringChecks >= 3 && r.ringsChecked > 6, `${r.ringChecks} checks, ${r.ringsChecked} rings`);
    assert.deepEqual(processesIn(join(dir, 'c')), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('revolver (ckpt load): checkpoint writes through kills, replicas identical', {
  timeout: 120_000,
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rv-'));
  try {
    const r = await revolver(dir, { load: 'ckpt', iterations: 3, ringCheckEvery: 3, seed: 6 });
    assert.equal(r.failure, undefined, JSON.stringify(r.failure));
    assert.equal(r.iterationsDone, 3);
    assert.ok(r.counters.ops > 100, `ops ${r.counters.ops}`);
    assert.deepEqual(processesIn(join(dir, 'c')), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('Ctrl-C stops a run within seconds, not a failure, and leaves nothing running', {
  timeout: 120_000,
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rv-'));
  try {
    const abort = new AbortController();
    let abortedAt = 0;
    const timer = setTimeout(() => {
      abortedAt = performance.now();
      abort.abort();
    }, 2500);
    const r = await revolver(dir, { iterations: 1000, signal: abort.signal });
    clearTimeout(timer);
    const stoppedAfterMs = performance.now() - abortedAt;
    assert.ok(abortedAt > 0, 'the run ended before the abort');
    assert.equal(r.aborted, true);
    assert.equal(r.failure, undefined, JSON.stringify(r.failure));
    assert.ok(r.iterationsDone < 1000);
    assert.ok(stoppedAfterMs < 15_000, `stopped ${stoppedAfterMs.toFixed(0)} ms after the abort`);
    assert.deepEqual(processesIn(join(dir, 'c')), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a planted lock conflict fails the run: it stops, kills what it started, keeps rings, logs, seed, lock log and a README', {
  timeout: 120_000,
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rv-'));
  try {
    const r = await revolver(dir, {
      iterations: 5,
      kill: { min: 1, max: 1 },
      seed: 9,
      ringCheckEvery: 10,
      beforeChecks: (i, load) => {
        if (i !== 2) return;
        assert.ok(load instanceof PlockLoad);
        const range = { space: 'revolver', inode: 7, start: 10, end: 20 };
        load.log.granted('planted#1', 1, 'planted-a', range, true, performance.now());
        load.log.granted(
          'planted#2',
          2,
          'planted-b',
          { ...range, start: 20, end: 30 },
          false,
          performance.now(),
        );
      },
    });
    assert.ok(r.failure);
    assert.equal(r.failure.iteration, 2);
    assert.equal(r.iterationsDone, 1);
    assert.equal(r.failure.findings.length, 1, r.failure.findings.join('\n'));
    assert.match(
      r.failure.findings[0]!,
      /^lock-conflict: conflicting locks held at once: exclusive revolver\/7/,
    );
    const readme = writeFailureReadme(r, 'npx totem revolver --seed 9');
    const text = readFileSync(readme, 'utf8');
    assert.match(text, /Seed 9; failed in iteration 2 \(checking\)/);
    assert.match(text, /npx totem fplay check .*state\/rings/);
    assert.equal(readFileSync(join(r.dir, 'SEED'), 'utf8'), '9\n');
    const log = readFileSync(join(r.dir, 'lock-log.jsonl'), 'utf8');
    assert.match(log, /"ownerKey":"planted#1"/);
    const rings = r.ringDirs.flatMap((d) => readdirSync(d).filter((n) => n.endsWith('.ring')));
    assert.ok(rings.length >= 5, `rings kept: ${rings}`); // 3 live + the 2 killed
    assert.ok(existsSync(join(r.dir, 'node-1.log')));
    assert.deepEqual(processesIn(join(dir, 'c')), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
