import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runSimCommand } from '../../src/cli/sim-command.js';
import { CORES } from '../../src/sim/cores.js';
import { captureSimIo } from '../support/sim-io.js';

test('totem sim --core services --load ckpt runs the service stack and replays by seed', () => {
  const args = ['--core', 'services', '--load', 'ckpt', '--seed', '4', '--nodes', '3', '--duration', '1s'];
  args.push('--faults', 'loss=0.02,crash', '--settle', '3s', '--json');
  const a = captureSimIo();
  assert.equal(runSimCommand(args, a, CORES), 0, a.stdout + a.stderr);
  const r = JSON.parse(a.stdout);
  assert.equal(r.pass, true);
  assert.equal(r.core, 'services+ckpt');
  assert.match(r.replay, /--core services --load ckpt/);
  const b = captureSimIo();
  runSimCommand(args, b, CORES);
  assert.equal(JSON.parse(b.stdout).traceHash, r.traceHash);
});

test('totem sim --load: unknown loads and loads without the services core are usage errors', () => {
  const io = captureSimIo();
  assert.equal(runSimCommand(['--core', 'services', '--load', 'nope'], io, CORES), 2);
  assert.match(io.stderr, /unknown load 'nope' \(known: ckpt, plock, plock-own\)/);
  const io2 = captureSimIo();
  assert.equal(runSimCommand(['--core', 'srp', '--load', 'ckpt'], io2, CORES), 2);
  assert.match(io2.stderr, /--load needs --core services/);
});

test('totem sim --scenario list names the service scenarios', () => {
  const io = captureSimIo();
  assert.equal(runSimCommand(['--scenario', 'list'], io, CORES), 0);
  for (const name of ['sync-fail-at-activate', 'sync-join-at-process', 'ckpt-sync-frame-fill', 'plock-churn'])
    assert.match(io.stdout, new RegExp(name));
});
