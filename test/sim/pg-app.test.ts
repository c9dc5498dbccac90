import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runSimCommand } from '../../src/cli/sim-command.js';
import type { OrderedListener } from '../../src/core/io.js';
import { checkRings } from '../../src/recorder/check.js';
import { readRing } from '../../src/recorder/reader.js';
import { CORES } from '../../src/sim/cores.js';
import { parseFaults } from '../../src/sim/faults.js';
import { checkWorldRings } from '../../src/sim/ring-check.js';
import { runSimulation } from '../../src/sim/run.js';
import { scenarioByName } from '../../src/sim/scenarios.js';
import { type SrpPgOptions, srpPgCoreFactory } from '../../src/sim/srp-pg-core.js';
import { captureSimIo } from '../support/sim-io.js';

function run(seed: number, opts: SrpPgOptions = {}, nodes = 4, faults = 'loss=0.02,reorder') {
  return runSimulation({
    seed,
    nodes,
    core: srpPgCoreFactory(opts),
    durationMs: 1500,
    faults: parseFaults(faults),
    recorderSlots: 16384,
  });
}

test('srp-pg is a registered core', () => {
  assert.ok(CORES.has('srp-pg'));
  assert.equal(CORES.get('srp-pg')!().name, 'srp+pg');
});

test('srp+pg: same seed, same trace hash; another seed, another hash', () => {
  const a = run(11, {}, 4, 'all');
  const b = run(11, {}, 4, 'all');
  const c = run(12, {}, 4, 'all');
  assert.ok(a.pass, a.violation?.detail);
  assert.equal(a.traceHash, b.traceHash);
  assert.equal(a.events, b.events);
  assert.notEqual(a.traceHash, c.traceHash);
  for (const [id, rec] of a.world.recorders)
    assert.deepEqual(rec.snapshot(), b.world.recorders.get(id)!.snapshot(), `node ${id} ring differs`);
});

test('scenario pg-frame-boundary: frame-end messages with trailing empty pieces while members come and go', () => {
  const sc = scenarioByName('pg-frame-boundary');
  assert.ok(sc);
  for (const seed of [1, 2]) {
    const r = runSimulation({ ...sc.build(seed, CORES.get('srp')!), recorderSlots: 65536 });
    assert.ok(r.pass, `seed ${seed}: ${r.violation?.invariant} ${r.violation?.detail}`);
    const c = r.world.coreCounters();
    assert.ok((c.boundaryShaped ?? 0) > 500, 'many messages aimed at frame ends');
    assert.equal(c['pg.assemblyErrors'] ?? 0, 0);
    assert.ok(r.faultCounts.leaves! + r.faultCounts.crashes! > 3 && r.faultCounts.restarts! > 3);
    assert.equal(r.ringFindings, 0);
  }
});

test('srp+pg: large messages beyond the send queue get try-again and are retried', () => {
  const r = runSimulation({
    seed: 5,
    nodes: 3,
    core: srpPgCoreFactory({ shapes: { empty: 0, tiny: 0, boundary: 0, large: 1 } }),
    durationMs: 1000,
    workload: { ratePerNode: 400 },
    recorderSlots: 65536,
  });
  assert.ok(r.pass, r.violation?.detail);
  const c = r.world.coreCounters();
  assert.ok((c.tryAgain ?? 0) > 0, 'try-again happened');
  assert.ok((c.retried ?? 0) > 0, 'refused messages were sent later');
});

/** Loses the n-th frame carrying a whole message at one node, between srp and pg. */
function loseFrameAt(node: number, n: number): SrpPgOptions['wrapFrames'] {
  return (toPg, id) => {
    if (id !== node) return toPg;
    let seen = 0;
    const wrapped: OrderedListener = {
      deliver(sender, payload, g, ring, seq) {
        if (++seen === n) return;
        toPg.deliver(sender, payload, g, ring, seq);
      },
      configurationChange: (conf) => toPg.configurationChange(conf),
      tokenVisit: () => toPg.tokenVisit(),
    };
    return wrapped;
  };
}

test('a frame lost above srp is caught by the app checker and by the ring check', () => {
  const r = runSimulation({
    seed: 3,
    nodes: 3,
    core: srpPgCoreFactory({ wrapFrames: loseFrameAt(2, 40) }),
    durationMs: 1500,
    recorderSlots: 65536,
  });
  assert.equal(r.pass, false);
  assert.match(r.violation!.invariant, /^(app-no-loss|app-intact|evs-same-set|self-delivery)$/);
  const rings = checkWorldRings(r.world);
  const kinds = new Set(rings.report.findings.map((f) => f.kind));
  assert.ok(kinds.has('pg-lost'), `ring findings: ${[...kinds]}`);
});

test('two messages glued above pg are caught by the app checker', () => {
  const r = run(4, {
    wrapListener: (up, id) => {
      if (id !== 3) return up;
      let held: { sender: number; message: Uint8Array } | undefined;
      let count = 0;
      return {
        deliver(group, sender, message, g) {
          count++;
          if (count === 30) {
            held = { sender, message };
            return;
          }
          if (held && held.sender === sender) {
            const glued = new Uint8Array(held.message.length + message.length);
            glued.set(held.message);
            glued.set(message, held.message.length);
            held = undefined;
            up.deliver(group, sender, glued, g);
            return;
          }
          up.deliver(group, sender, message, g);
        },
        configurationChange: (conf) => up.configurationChange?.(conf),
      };
    },
  });
  assert.equal(r.pass, false);
  assert.match(r.violation!.invariant, /^app-/);
});

test('a message dropped above pg is caught by the app checker', () => {
  const r = run(6, {
    wrapListener: (up, id) => {
      if (id !== 1) return up;
      let count = 0;
      return {
        deliver(group, sender, message, g) {
          if (++count !== 25) up.deliver(group, sender, message, g);
        },
        configurationChange: (conf) => up.configurationChange?.(conf),
      };
    },
  });
  assert.equal(r.pass, false);
  assert.match(r.violation!.invariant, /^(app-no-loss|app-intact|evs-same-set|self-delivery)$/);
});

test('totem sim --core srp-pg --keep-rings DIR: fplay check is clean on the passing run', () => {
  const dir = mkdtempSync(join(tmpdir(), 'totem-simpg-'));
  try {
    const io = captureSimIo();
    const code = runSimCommand(
      [
        '--core',
        'srp-pg',
        '--seed',
        '7',
        '--nodes',
        '4',
        '--duration',
        '1s',
        '--faults',
        'all',
        '--keep-rings',
        dir,
      ],
      io,
      CORES,
    );
    assert.equal(code, 0, io.stdout);
    assert.match(io.stdout, /^PASS seed 7 nodes 4 core srp\+pg/);
    const files = readdirSync(dir).filter((f) => f.endsWith('.ring'));
    assert.ok(files.length >= 4);
    const report = checkRings(files.map((f) => readRing(new Uint8Array(readFileSync(join(dir, f))), f)));
    assert.deepEqual(report.findings, []);
    assert.ok(report.counts.pgDelivered > 0 && report.counts.pgSent > 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("fplay check attributes a restarted sender's old messages to its old incarnation (seed 11 failed before)", () => {
  // Survivors deliver (recover) a crashed node's last messages after the node restarted with
  // pg ids from 1 again; matching by time alone took them for the new incarnation's sends.
  const r = runSimulation({
    seed: 11,
    nodes: 4,
    core: srpPgCoreFactory(),
    durationMs: 3000,
    faults: parseFaults('all'),
    recorderSlots: 65536,
  });
  assert.ok(r.faultCounts.restarts! > 0);
  assert.ok(r.pass, `${r.violation?.invariant}: ${r.violation?.detail}`);
});
