/**
 * The tools end to end: `totem cluster up` (with --crypto), `totem status`, a message load
 * through the daemons, `totem cluster down`, then `totem fplay check` on the rings they left.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { alive, clusterLayout, clusterNodes, findFreePorts, readPid } from '../../src/runtime/cluster.js';
import { controlRequest } from '../../src/runtime/control.js';
import type { NodeStatus } from '../../src/runtime/node-runtime.js';
import { sleep } from './daemons.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'totem-cli-'));

async function totem(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [MAIN, ...args], { timeout: 60_000 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

after(() => {
  // Whatever happened, no daemon outlives the test.
  for (const n of clusterNodes(dir)) {
    const pid = readPid(clusterLayout(dir, n), n);
    if (pid !== undefined && alive(pid)) process.kill(pid, 'SIGKILL');
  }
  rmSync(dir, { recursive: true, force: true });
});

test('cluster up --crypto, status, a load, cluster down, then fplay check reports clean', {
  timeout: 120_000,
}, async () => {
  const base = await findFreePorts(3);
  const up = await totem(
    'cluster',
    'up',
    '3',
    '--dir',
    dir,
    '--base-port',
    String(base),
    '--crypto',
    '--token',
    '400',
  );
  assert.equal(up.code, 0, `${up.stdout}\n${up.stderr}`);
  assert.match(up.stdout, /formed with members \[1 2 3\]/);
  assert.equal(statSync(join(dir, 'authkey')).mode & 0o777, 0o400);
  assert.equal(statSync(join(dir, 'run')).mode & 0o777, 0o700);
  assert.equal(statSync(join(dir, 'run', 'totem-1.sock')).mode & 0o777, 0o600);

  const status = await totem('status', '--json', '-c', join(dir, 'node-1.conf'));
  assert.equal(status.code, 0, status.stderr);
  const all = JSON.parse(status.stdout) as NodeStatus[];
  assert.deepEqual(
    all.map((s) => [s.nodeId, s.state, s.members.join(',')]),
    [1, 2, 3].map((n) => [n, 'OPERATIONAL', '1,2,3']),
  );
  const text = await totem('status', '-c', join(dir, 'node-1.conf'), '--node-id', '2');
  assert.match(
    text.stdout,
    /^node 2 \(pid \d+, cluster local\): OPERATIONAL, ring \d+\/\d+, members \[1 2 3\]/,
  );
  assert.match(text.stdout, /token: rotations \d+/);
  const ipc2 = join(dir, 'run', 'ipc-2.sock');
  assert.match(up.stdout, new RegExp(`node 2: pid \\d+, .*, ipc ${ipc2}`));
  assert.ok(text.stdout.includes(`clients: ipc ${ipc2}, `), text.stdout);
  assert.equal(statSync(ipc2).mode & 0o777, 0o770);

  // totem cpg against the running daemons: a send on node 3 shows in the groups seen from node 1.
  const members = totem('cpg', '--socket', ipc2, 'join', 'cli-group', '--count', '1', '--json');
  for (let i = 0; i < 100; i++) {
    const g = await totem('cpg', '--socket', join(dir, 'run', 'ipc-1.sock'), 'groups', '--json');
    assert.equal(g.code, 0, g.stderr);
    if (g.stdout.includes('cli-group')) break;
    await sleep(50);
  }
  const send = await totem(
    'cpg',
    '--socket',
    join(dir, 'run', 'ipc-3.sock'),
    'send',
    'cli-group',
    'hi there',
  );
  assert.equal(send.code, 0, send.stderr);
  const joined = await members;
  assert.equal(joined.code, 0, joined.stderr);
  assert.match(joined.stdout, /"text":"hi there"/);
  assert.match(joined.stdout, /"nodeId":3/);

  const layout = clusterLayout(dir, 3);
  for (const n of [1, 2, 3]) {
    const r = await controlRequest(layout.socket(n), { op: 'load', count: 400, size: n === 2 ? 3000 : 90 });
    assert.ok(r.ok);
  }
  // 3000-byte messages span several frames: pg fragments and reassembles them.
  let statuses: NodeStatus[] = [];
  for (let i = 0; i < 200; i++) {
    statuses = await Promise.all(
      [1, 2, 3].map(async (n) => {
        const r = await controlRequest(layout.socket(n), { op: 'status' });
        assert.ok(r.ok);
        return r.status as NodeStatus;
      }),
    );
    if (statuses.every((s) => s.load.delivered === 1200)) break;
    await sleep(100);
  }
  assert.deepEqual(
    statuses.map((s) => s.load.delivered),
    [1200, 1200, 1200],
  );
  assert.equal(new Set(statuses.map((s) => s.load.hash)).size, 1, 'same messages in the same order');

  const down = await totem('cluster', 'down', '--dir', dir);
  assert.equal(down.code, 0, down.stderr);
  for (const n of [1, 2, 3])
    assert.match(down.stdout, new RegExp(`node ${n} \\(pid \\d+\\): stopped \\(SIGTERM\\)`));
  assert.match(down.stdout, /flight-recorder rings: .*state\/rings/);
  assert.deepEqual(clusterNodes(dir), []);

  const check = await totem('fplay', 'check', layout.ringDir);
  assert.equal(check.code, 0, `${check.stdout}\n${check.stderr}`);
  assert.match(check.stdout, /checked 3 ring\(s\)/);
  // The load's 1200 messages, plus the sync engine's and services' own pg traffic.
  const pg = /(\d+) pg sent, (\d+) pg delivered/.exec(check.stdout);
  assert.ok(pg, check.stdout);
  assert.ok(Number(pg[1]) >= 1200 && Number(pg[2]) >= 3600, check.stdout);
  assert.match(check.stdout, /check: clean/);

  const again = await totem('cluster', 'down', '--dir', dir);
  assert.match(again.stdout, /nothing to stop/);
});
