/**
 * One daemon and its signals: SIGUSR2 dumps the flight recorder, SIGHUP reopens the log
 * after a rotation, SIGINT leaves like SIGTERM; bad command lines and configurations fail
 * with a message and a distinct exit status.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { DaemonCluster, sleep } from './daemons.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const run = promisify(execFile);

let c: DaemonCluster | undefined;
after(async () => {
  await c?.destroy();
});

async function until(what: string, cond: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) assert.fail(`${what} within ${ms} ms`);
    await sleep(25);
  }
}

test('a single daemon forms its own ring; USR2 dumps the recorder, HUP reopens the log, INT leaves', async () => {
  c = await DaemonCluster.create({ size: 1 });
  const [s] = await c.ring([1], 10_000);
  assert.equal(s!.members.length, 1);
  const pid = c.pid(1)!;
  const log = c.layout.logFile(1);

  process.kill(pid, 'SIGUSR2');
  await until('a dump appears', () => readdirSync(c!.layout.ringDir).some((f) => f.includes('-dump')));
  await until('the dump is logged', () => readFileSync(log, 'utf8').includes('SIGUSR2'));

  renameSync(log, `${log}.1`);
  process.kill(pid, 'SIGHUP');
  await until(
    'a new log file',
    () => existsSync(log) && readFileSync(log, 'utf8').includes('log file reopened'),
  );

  process.kill(pid, 'SIGINT');
  await until('the daemon exits', () => {
    try {
      process.kill(pid, 0);
      return false;
    } catch {
      return true;
    }
  });
  const text = readFileSync(log, 'utf8');
  assert.match(text, /SIGINT: leaving the ring/);
  assert.match(text, /stopped \(exit 0\)/);
  assert.ok(!existsSync(c.layout.socket(1)), 'the control socket is removed');
});

async function daemon(...args: string[]): Promise<{ code: number; stderr: string }> {
  try {
    await run(process.execPath, [MAIN, 'daemon', ...args], { timeout: 20_000 });
    return { code: 0, stderr: '' };
  } catch (err) {
    const e = err as { code?: number; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stderr: e.stderr ?? '' };
  }
}

test('bad command lines and configurations stop the daemon at once, saying why', async () => {
  assert.equal((await daemon()).code, 2);
  assert.equal((await daemon('-c', '/nonexistent/totem.conf')).code, 78);
  const file = join(c!.layout.dir, 'bad.conf');
  writeFileSync(
    file,
    'totem {\n  token: fast\n}\nnodelist {\n  node {\n    ring0_addr: 127.0.0.1\n    nodeid: 1\n  }\n}\n',
  );
  const bad = await daemon('-c', file, '--node-id', '1');
  assert.equal(bad.code, 78);
  assert.match(bad.stderr, /bad\.conf:2: totem\.token: expected a positive integer/);
  const missing = await daemon('-c', c!.layout.configFile(1), '--node-id', '9');
  assert.equal(missing.code, 78);
  assert.match(missing.stderr, /node id 9 is not in the node list/);
});
