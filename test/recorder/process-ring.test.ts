import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { check, InvariantError } from '../../src/recorder/assert.js';
import { EV } from '../../src/recorder/events/index.js';
import { installRecorderHooks, openProcessRing, salvageRings } from '../../src/recorder/process-ring.js';
import { readRing } from '../../src/recorder/reader.js';
import { Recorder } from '../../src/recorder/recorder.js';

function scratch(): string {
  return mkdtempSync(join(tmpdir(), 'totem-ring-'));
}

function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(r.stdout.toString());
}

test('a process ring is a mapped 0600 file in a 0700 run directory', () => {
  const dir = join(scratch(), 'run');
  try {
    const ring = openProcessRing({ nodeId: 4, runDir: dir, slots: 1024 });
    assert.equal(ring.mapped, true);
    assert.equal(ring.path, join(dir, `fr-4-${process.pid}.ring`));
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    assert.equal(statSync(ring.path).mode & 0o777, 0o600);
    ring.recorder.recNow(EV.REC_MARK, 0, 42);
    // No flush: the file already holds the record, because the ring is the mapping.
    const img = readRing(readFileSync(ring.path));
    assert.equal(img.records.args[(img.records.count - 1) * 8 + 1], 42);
    assert.equal(img.header?.mapped, true);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('rings of dead processes are kept as fdata-* and the directory stays bounded', () => {
  const dir = scratch();
  try {
    const dead = deadPid();
    const stale = new Recorder({ slots: 64, nodeId: 2 });
    stale.rec(EV.REC_MARK, 0, 7);
    writeFileSync(join(dir, `fr-2-${dead}.ring`), stale.snapshot());
    writeFileSync(join(dir, `fr-3-${process.ppid}.ring`), stale.snapshot()); // alive: left alone
    for (let i = 0; i < 20; i++) {
      const p = join(dir, `fdata-1-${i}-old.ring`);
      writeFileSync(p, 'x');
      utimesSync(p, 1000 + i, 1000 + i);
    }
    const salvaged = salvageRings(dir, 5);
    assert.equal(salvaged.length, 1);
    assert.match(salvaged[0]!, new RegExp(`fdata-2-${dead}-\\d{8}T\\d{6}Z\\.ring$`));
    const names = readdirSync(dir).sort();
    assert.ok(names.includes(`fr-3-${process.ppid}.ring`));
    const fdata = names.filter((n) => n.startsWith('fdata-'));
    assert.equal(fdata.length, 5);
    assert.ok(fdata.includes(salvaged[0]!.split('/').pop()!), 'the newest salvage is kept');
    // The salvaged ring still reads back.
    const img = readRing(readFileSync(salvaged[0]!));
    assert.equal(img.records.args[(img.records.count - 1) * 8 + 1], 7);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('without mapping, the ring is kept in memory, said once, and dumped on flush', () => {
  const dir = scratch();
  try {
    const said: string[] = [];
    const ring = openProcessRing({
      nodeId: 6,
      runDir: dir,
      slots: 256,
      forceHeap: true,
      log: (l) => said.push(l),
    });
    assert.equal(ring.mapped, false);
    assert.equal(said.length, 1);
    assert.match(said[0]!, /keeping the ring in memory and dumping it to .*fdata-6-\d+-heap\.ring/);
    assert.equal(existsSync(ring.path), false);
    ring.recorder.recNow(EV.REC_MARK, 0, 5);
    ring.flush();
    const img = readRing(readFileSync(ring.path));
    assert.equal(img.header?.mapped, false);
    assert.equal(img.records.args[(img.records.count - 1) * 8 + 1], 5);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an assertion failure is recorded, reaches disk, and throws', () => {
  const dir = scratch();
  try {
    const ring = openProcessRing({ nodeId: 8, runDir: dir, slots: 256, forceHeap: true, log: () => {} });
    assert.throws(() => check(ring.recorder, 1 + 1 === 3, 'arithmetic holds', 1, 2, 3), InvariantError);
    const img = readRing(readFileSync(ring.path));
    const last = img.records.count - 1;
    assert.equal(img.records.event[last], EV.REC_ASSERT);
    assert.equal(img.strings[img.records.args[last * 8]! - 1], 'arithmetic holds');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('SIGUSR2 dumps the ring on demand, and close marks it clean', async () => {
  const dir = scratch();
  try {
    const ring = openProcessRing({ nodeId: 5, runDir: dir, slots: 256 });
    const remove = installRecorderHooks(ring);
    try {
      process.kill(process.pid, 'SIGUSR2');
      const deadline = Date.now() + 5000;
      while (!readdirSync(dir).some((n) => n.includes('-dump')) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 10));
      }
    } finally {
      remove();
    }
    const dump = readdirSync(dir).find((n) => n.includes('-dump'));
    assert.ok(dump, 'a dump file appeared');
    const img = readRing(readFileSync(join(dir, dump)));
    const names = [...img.records.event];
    assert.ok(names.includes(EV.REC_SIGNAL) && names.includes(EV.REC_DUMP));
    ring.close('test over');
    assert.equal(readRing(readFileSync(ring.path)).header?.closed, true);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
