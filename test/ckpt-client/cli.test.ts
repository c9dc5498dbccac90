import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Ckpt } from '../../src/index.js';
import { CkptDaemons } from './daemons.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

function totem(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

test('totem ckpt: create, write, read, sections, status, ls, rm across nodes', async () => {
  const d = await CkptDaemons.start([1, 2, 3]);
  try {
    const s1 = ['--socket', d.node(1).socket];
    const s3 = ['--socket', d.node(3).socket];
    const ok = async (args: string[]) => {
      const r = await totem(['ckpt', ...args]);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
      return r.stdout;
    };
    await ok(['create', 'cfg', '--sections', '4', '--section-size', '100', ...s1]);
    await ok(['write', 'cfg', 'alpha', 'one', ...s1]);
    await ok(['write', 'cfg', 'alpha', 'uno', ...s3]);
    await ok(['write', 'cfg', 'beta', 'two!', ...s3]);
    assert.equal(await ok(['read', 'cfg', 'alpha', ...s1]), 'uno');
    assert.equal(await ok(['sections', 'cfg', ...s1]), 'alpha\t3\tnever\nbeta\t4\tnever\n');
    assert.deepEqual(JSON.parse(await ok(['sections', 'cfg', '--json', ...s3])), [
      { id: 'alpha', size: 3, expirationTime: null },
      { id: 'beta', size: 4, expirationTime: null },
    ]);
    const status = await ok(['status', 'cfg', ...s1]);
    assert.match(status, /^sections 2\/4$/m);
    assert.match(status, /^bytes 7\/400$/m);
    assert.equal(JSON.parse(await ok(['status', 'cfg', '--json', ...s3])).attributes.retentionDuration, null);
    assert.equal(await ok(['ls', ...s3]), 'cfg\t2\t7\t0\n');
    // A client holding it open shows in ls.
    const app = await Ckpt.connect({ socket: d.node(2).socket });
    const held = await app.open('cfg');
    assert.deepEqual(JSON.parse(await ok(['ls', '--json', ...s1])), [
      { name: 'cfg', numberOfSections: 2, memoryUsed: 7, openHandles: 1 },
    ]);
    await ok(['rm', 'cfg', ...s1]);
    assert.equal(await ok(['ls', ...s1]), '');
    const gone = await totem(['ckpt', 'read', 'cfg', 'alpha', ...s1]);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /SA_AIS_ERR_NOT_EXIST/);
    assert.equal(new TextDecoder().decode(await held.read('beta')), 'two!');
    await app.close();
  } finally {
    await d.stop();
  }
});

test('totem ckpt: usage errors exit 2; an unreachable daemon exits 1', async () => {
  assert.equal((await totem(['ckpt'])).code, 2);
  assert.equal((await totem(['ckpt', 'write', 'a', 'b'])).code, 2);
  assert.equal((await totem(['ckpt', 'create', 'a', '--sections', 'x'])).code, 2);
  assert.equal((await totem(['ckpt', 'frob'])).code, 2);
  const r = await totem(['ckpt', 'ls', '--socket', '/nonexistent/x.sock']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /LIBRARY: cannot connect to \/nonexistent\/x.sock/);
});
