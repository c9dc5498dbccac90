import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseDuration, runSimCommand } from '../../src/cli/sim-command.js';
import { MAGIC } from '../../src/recorder/format.js';
import { captureSimIo } from '../support/sim-io.js';
import { toySequencerFactory } from './toy-sequencer.js';

const cores = new Map([
  ['toy', () => toySequencerFactory([1, 2, 3])],
  ['toy-dup', () => toySequencerFactory([1, 2, 3], 'duplicate')],
]);

test('totem sim prints PASS, the seed and the trace hash; the same seed gives the same hash', () => {
  const args = [
    '--seed',
    '9',
    '--nodes',
    '3',
    '--duration',
    '1s',
    '--faults',
    'loss=0.05,dup',
    '--core',
    'toy',
  ];
  const a = captureSimIo();
  assert.equal(runSimCommand(args, a, cores), 0, a.stderr);
  assert.match(
    a.stdout,
    /^PASS seed 9 nodes 3 core toy-sequencer faults loss=0\.05,dup=0\.01 trace [0-9a-f]{16}/,
  );
  const b = captureSimIo();
  runSimCommand([...args, '--json'], b, cores);
  const j = JSON.parse(b.stdout);
  assert.equal(j.pass, true);
  assert.equal(j.traceHash, /trace ([0-9a-f]{16})/.exec(a.stdout)![1]);
  assert.match(
    j.replay,
    /^totem sim --seed 9 --nodes 3 --duration 1s --faults loss=0.05,dup=0.01 --core toy$/,
  );
});

test('a failing run names the invariant and writes every ring plus a replay command', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sim-cli-'));
  try {
    const io = captureSimIo();
    const code = runSimCommand(
      [
        '--seed',
        '2',
        '--nodes',
        '3',
        '--duration',
        '1s',
        '--faults',
        'none',
        '--core',
        'toy-dup',
        '--out',
        dir,
      ],
      io,
      cores,
    );
    assert.equal(code, 1);
    assert.match(io.stdout, /^FAIL seed 2/);
    assert.match(io.stdout, /violated: no-duplicate node \d/);
    for (const n of [1, 2, 3]) {
      const ring = readFileSync(join(dir, `fr-${n}-sim.ring`));
      assert.equal(ring.subarray(0, 8).toString('latin1'), MAGIC);
    }
    assert.match(
      readFileSync(join(dir, 'replay.sh'), 'utf8'),
      /totem sim --seed 2 --nodes 3 .*--core toy-dup/,
    );
    assert.equal(
      JSON.parse(readFileSync(join(dir, 'result.json'), 'utf8')).violation.invariant,
      'no-duplicate',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('totem sim sweep runs a seed range and stops at the first failure with its replay command', () => {
  const ok = captureSimIo();
  assert.equal(
    runSimCommand(
      [
        'sweep',
        '--seeds',
        '1..4',
        '--nodes',
        '3',
        '--duration',
        '500ms',
        '--faults',
        'loss',
        '--core',
        'toy',
      ],
      ok,
      cores,
    ),
    0,
  );
  assert.match(ok.stdout, /^PASS 4\/4 seeds passed/);
  const dir = mkdtempSync(join(tmpdir(), 'sim-sweep-'));
  try {
    const bad = captureSimIo();
    const code = runSimCommand(
      [
        'sweep',
        '--seeds',
        '10..12',
        '--nodes',
        '3',
        '--duration',
        '500ms',
        '--core',
        'toy-dup',
        '--out',
        dir,
        '--json',
      ],
      bad,
      cores,
    );
    assert.equal(code, 1);
    const j = JSON.parse(bad.stdout);
    assert.equal(j.runs, 1);
    assert.equal(j.failed[0].seed, 10);
    assert.match(
      j.failed[0].replay,
      /^totem sim --seed 10 --nodes 3 --duration 500ms --faults .* --core toy-dup$/,
    );
    assert.ok(existsSync(join(dir, 'fr-1-sim.ring')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bad usage exits 2 with a message', () => {
  for (const args of [
    ['--faults', 'bogus'],
    ['--duration', 'soon'],
    ['--frobnicate'],
    ['--core', 'nope'],
    ['--rate', 'lots'],
  ]) {
    const io = captureSimIo();
    assert.equal(runSimCommand(args, io, cores), 2, args.join(' '));
    assert.match(io.stderr, /totem sim: /);
  }
  assert.equal(parseDuration('2m'), 120_000);
  assert.equal(parseDuration('250ms'), 250);
});

test('the scenario list names every scenario', () => {
  const io = captureSimIo();
  assert.equal(runSimCommand(['--scenario', 'list'], io, cores), 0);
  for (const name of [
    'received-flg',
    'retransmitted-token',
    'join-in-commit',
    'recovery-flood',
    'rtr-beyond-queue',
    'unstable-membership',
  ])
    assert.match(io.stdout, new RegExp(`^${name} `, 'm'));
});
