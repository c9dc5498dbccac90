import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { recordCluster } from '../support/recording.js';

const TOTEM = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

function totem(...args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [TOTEM, ...args], { encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function writeCluster(dir: string, opts: Parameters<typeof recordCluster>[0] = {}): void {
  for (const r of recordCluster(opts)) writeFileSync(join(dir, `fr-${r.nodeId}-sim.ring`), r.snapshot());
}

test('totem --help lists the subcommands', () => {
  const r = totem('--help');
  assert.equal(r.code, 0);
  assert.match(r.out, /fplay/);
});

test('fplay prints summaries, merged records and the count; filters and json work', () => {
  const dir = mkdtempSync(join(tmpdir(), 'totem-fplay-'));
  try {
    writeCluster(dir);
    const all = totem('fplay', dir);
    assert.equal(all.code, 0, all.err);
    const lines = all.out.trim().split('\n');
    assert.equal(lines.filter((l) => l.startsWith('# ')).length, 3);
    assert.match(lines.at(-1)!, /^records found \[\d+\]$/);
    assert.ok(
      lines.some((l) =>
        /^node=2 rec=\[\d+\] t=\d+\.\d{6} srp\.deliver ringRep=1 ringSeq=8 seq=\d+ sender=\d$/.test(l),
      ),
    );

    const filtered = totem('fplay', '--node', '2', '--layer', 'pg', '--grep', 'sender=3', '--last', '2', dir);
    const recs = filtered.out.split('\n').filter((l) => l.startsWith('node='));
    assert.equal(recs.length, 2);
    assert.ok(
      recs.every((l) => l.startsWith('node=2') && l.includes('pg.deliver') && l.includes('sender=3')),
    );
    assert.match(filtered.out, /records found \[2\]/);

    const json = totem('fplay', '--json', '--layer', 'srp', dir);
    const objs = json.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.equal(objs.filter((o) => o.type === 'file').length, 3);
    const rec = objs.find((o) => o.type === 'record' && o.event === 'srp.deliver');
    assert.deepEqual(Object.keys(rec.args), ['ringRep', 'ringSeq', 'seq', 'sender']);
    assert.equal(objs.at(-1).type, 'summary');

    const trace = join(dir, 'trace.json');
    assert.equal(totem('fplay', '--chrome-trace', trace, dir).code, 0);
    const t = JSON.parse(readFileSync(trace, 'utf8'));
    assert.ok(
      t.traceEvents.some((e: { ph: string; name: string }) => e.ph === 'M' && e.name === 'process_name'),
    );
    assert.ok(
      t.traceEvents.some((e: { ph: string; ts: number }) => e.ph === 'i' && typeof e.ts === 'number'),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('fplay on damaged or missing input says so and keeps what it can', () => {
  const dir = mkdtempSync(join(tmpdir(), 'totem-fplay-'));
  try {
    writeCluster(dir);
    const good = readFileSync(join(dir, 'fr-1-sim.ring'));
    writeFileSync(join(dir, 'fr-1-sim.ring'), good.subarray(0, good.length - 4096 * 32 + 5000));
    writeFileSync(join(dir, 'junk.ring'), 'not a ring at all');
    const r = totem('fplay', dir, join(dir, 'missing.ring'));
    assert.equal(r.code, 0);
    assert.match(r.err, /missing\.ring: ENOENT/);
    assert.match(r.out, /junk\.ring: unreadable: truncated/);
    assert.match(r.out, /fr-1-sim\.ring: node 1 .*\n# {3}problems: truncated: \d+ of 4096 slots present/);
    assert.match(r.out, /records found \[\d+\]/);
    assert.equal(totem('fplay', '--since', 'soon', dir).code, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('fplay check exits 0 on a clean recording and 1 with witnesses on a planted loss', () => {
  const dir = mkdtempSync(join(tmpdir(), 'totem-check-'));
  try {
    writeCluster(dir);
    const clean = totem('fplay', 'check', dir);
    assert.equal(clean.code, 0, clean.out);
    assert.match(clean.out, /check: clean/);
    rmSync(dir, { recursive: true });
    const bad = mkdtempSync(join(tmpdir(), 'totem-check-'));
    writeCluster(bad, { onDeliver: (node, seq) => !(node === 3 && seq === 2) });
    const r = totem('fplay', 'check', bad);
    assert.equal(r.code, 1);
    assert.match(
      r.out,
      /FINDING not-delivered: ring 1\.8 seq 2 from node 2 delivered on \{1,2\}, missing on \{3\}/,
    );
    assert.match(r.out, /witness node=2 rec=\[\d+\] srp\.mcast_tx/);
    rmSync(bad, { recursive: true, force: true });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
