/**
 * The Plock client library and `totem plock` against two real daemons: AbortSignal cancels a
 * wait in the daemon, close releases, bad arguments are refused before the daemon, the tool
 * locks (and holds), tests and lists.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { PLOCK_EOF, Plock, PlockError } from '../../src/client/index.js';
import { DaemonCluster, sleep } from './daemons.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const clusters: DaemonCluster[] = [];
const clients: Plock[] = [];
after(async () => {
  for (const c of clients) await c.close().catch(() => {});
  for (const c of clusters) await c.destroy();
});

function totem(args: string[]): {
  done: Promise<{ code: number | null; stdout: string; stderr: string }>;
  child: ReturnType<typeof spawn>;
  stdout: () => string;
} {
  const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
  return { done, child, stdout: () => stdout };
}

test('Plock client and totem plock on two daemons', async () => {
  const c = await DaemonCluster.create({ size: 2 });
  clusters.push(c);
  await c.ring([1, 2], 20_000);
  const socket = (n: number) => c.layout.ipcSocket(n);
  const a = await Plock.connect({ socket: socket(1) });
  const b = await Plock.connect({ socket: socket(2) });
  clients.push(a, b);
  assert.equal(a.nodeId, 1);
  const t = { space: 'fs', inode: 9, start: 0, end: 99 };

  await a.lock({ ...t, owner: 1, exclusive: true });
  // An aborted wait is cancelled in the daemon: after a's unlock, b holds nothing.
  const ac = new AbortController();
  const wait = b.lock({ ...t, owner: 2, exclusive: true, signal: ac.signal });
  await sleep(200);
  ac.abort(new Error('gave up'));
  await assert.rejects(wait, /gave up/);
  await a.unlock({ ...t, owner: 1 });
  assert.deepEqual(await b.list('fs', 9), []);
  await assert.rejects(b.lock({ ...t, owner: 2, exclusive: true, signal: AbortSignal.abort() }));

  // Bad arguments never reach the daemon.
  await assert.rejects(a.lock({ ...t, start: 5, end: 1, owner: 1, exclusive: true }), {
    code: 'INVALID_PARAM',
  });
  await assert.rejects(a.list(''), { code: 'INVALID_PARAM' });
  await assert.rejects(a.test({ ...t, owner: -1, exclusive: true }), PlockError);

  // A closed connection releases its locks; a closed client refuses calls.
  const short = await Plock.connect({ socket: socket(2) });
  await short.lock({ ...t, owner: 5, exclusive: false });
  assert.equal((await a.test({ ...t, owner: 1, exclusive: true }))?.owner, 5);
  await short.close();
  await assert.rejects(short.list('fs'), { code: 'NOT_CONNECTED' });
  const freed = Date.now() + 10_000;
  while ((await a.test({ ...t, owner: 1, exclusive: true })) !== undefined) {
    assert.ok(Date.now() < freed, 'the closed connection released its lock');
    await sleep(50);
  }

  // The tool: lock and hold on node 2; test and list from node 1 see it; SIGTERM unlocks.
  const holder = totem([
    'plock',
    'lock',
    'fs',
    '77',
    '--start',
    '10',
    '--end',
    '20',
    '--owner',
    '4',
    '--socket',
    socket(2),
  ]);
  const until = Date.now() + 15_000;
  while (!holder.stdout().includes('locked')) {
    assert.ok(Date.now() < until, 'totem plock lock prints locked');
    await sleep(50);
  }
  const tested = totem(['plock', 'test', 'fs', '77', '--socket', socket(1)]);
  const tr = await tested.done;
  assert.equal(tr.code, 0, tr.stderr);
  assert.equal(tr.stdout, '77\t10-20\texclusive\tnode 2\towner 4\n');
  const listed = await totem(['plock', 'list', 'fs', '--json', '--socket', socket(1)]).done;
  assert.deepEqual(JSON.parse(listed.stdout), [
    { space: 'fs', inode: 77, start: 10, end: 20, exclusive: true, nodeId: 2, owner: 4 },
  ]);
  const refused = await totem(['plock', 'lock', 'fs', '77', '--nowait', '--hold', '0', '--socket', socket(1)])
    .done;
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /WOULD_BLOCK/);
  holder.child.kill('SIGTERM');
  const hr = await holder.done;
  assert.equal(hr.code, 0, hr.stderr);
  assert.equal(hr.stdout, 'locked\nunlocked\n');
  const free = await totem(['plock', 'test', 'fs', '77', '--end', 'eof', '--socket', socket(1)]).done;
  assert.equal(free.stdout, 'free\n');
  const usage = await totem(['plock', 'lock', 'fs']).done;
  assert.equal(usage.code, 2);
  assert.ok(PLOCK_EOF > 0);
});
