import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const TOTEM = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

test('totem start (npm start) runs a local 3-node cluster under load, stops it, and checks its rings', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ts-'));
  try {
    const r = spawnSync(process.execPath, [TOTEM, 'start', '--duration', '4', '--dir', join(dir, 'c')], {
      encoding: 'utf8',
      timeout: 90_000,
    });
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /starting 3 daemons/);
    assert.match(r.stdout, /node 1 {2}OPERATIONAL ring \d+\.\d+ +members \[1 2 3\]/);
    assert.match(r.stdout, /plock ready +\d+ applied/);
    assert.match(r.stdout, /plock: +\d+ lock ops\/s +\d+ held by clients/);
    const load =
      /plock load: (\d+) grants, (\d+) releases, \d+ would-block, 0 client errors; no conflicting locks, no client stuck/.exec(
        r.stdout,
      );
    assert.ok(load, r.stdout);
    assert.ok(Number(load[1]) > 50, `grants ${load[1]}`);
    assert.match(
      r.stdout,
      /fplay check over 3 ring\(s\): \d+ transmitted, \d+ delivered, \d+ configuration\(s\): clean/,
    );
    // Every daemon it started is gone: no pid files, no sockets.
    const left = readdirSync(join(dir, 'c')).filter((n) => n.endsWith('.pid'));
    assert.deepEqual(left, []);
    assert.equal(existsSync(join(dir, 'c', 'run', 'totem-1.sock')), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
