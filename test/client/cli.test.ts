import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Cpg } from '../../src/index.js';
import { LoopbackDaemons } from '../ipc/cluster.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function totem(args: string[], onStdout?: (text: string) => void): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      onStdout?.(stdout);
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

test('totem cpg: join prints messages and changes; send, groups and members', async () => {
  const d = await LoopbackDaemons.start([1, 2]);
  try {
    const s1 = d.node(1).socket;
    const s2 = d.node(2).socket;
    let joined!: () => void;
    const joinedSeen = new Promise<void>((r) => {
      joined = r;
    });
    const listener = totem(['cpg', 'join', 'chat', '--count', '2', '--socket', s1], (out) => {
      if (out.includes('[conf] chat')) joined();
    });
    await joinedSeen;
    const watcher = await Cpg.connect({ socket: s2, pid: 777 });
    await watcher.join('chat');
    const file = join(d.root, 'payload.txt');
    await writeFile(file, 'from a file');
    assert.equal((await totem(['cpg', 'send', 'chat', 'hello there', '--socket', s2])).code, 0);
    assert.equal((await totem(['cpg', 'send', 'chat', '--file', file, '--safe', '--socket', s2])).code, 0);
    const r = await listener;
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    const msgs = lines.filter((l) => l.startsWith('[msg]'));
    assert.equal(msgs.length, 2);
    assert.match(msgs[0]!, /^\[msg\] 2\/\d+ agreed "hello there"$/);
    assert.match(msgs[1]!, /^\[msg\] 2\/\d+ safe "from a file"$/);
    assert.ok(lines.some((l) => /^\[conf\] chat members .*2\/777.* joined 2\/777\(join\)$/.test(l)));

    const groups = await totem(['cpg', 'groups', '--socket', s1]);
    assert.equal(groups.code, 0);
    assert.equal(groups.stdout, 'chat\t1\t2/777\n');
    const members = await totem(['cpg', 'members', 'chat', '--json', '--socket', s1]);
    assert.deepEqual(JSON.parse(members.stdout), [{ nodeId: 2, pid: 777 }]);
    await watcher.close();
  } finally {
    await d.stop();
  }
});

test('totem cpg: usage errors exit 2; an unreachable daemon exits 1 with a clear message', async () => {
  assert.equal((await totem(['cpg'])).code, 2);
  assert.equal((await totem(['cpg', 'send', 'g'])).code, 2);
  assert.equal(
    (await totem(['cpg', 'join', 'g', '--count', '0', '--socket', '/nonexistent/x.sock'])).code,
    2,
  );
  const r = await totem(['cpg', 'groups', '--socket', '/nonexistent/x.sock']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /LIBRARY: cannot connect to \/nonexistent\/x.sock/);
});
