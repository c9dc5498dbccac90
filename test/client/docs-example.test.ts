import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { LoopbackDaemons } from '../ipc/cluster.js';

// dist/test/client → the repository root is three levels up.
const ROOT = new URL('../../../', import.meta.url);

test('the quick-start example in docs/cpg.md runs against a daemon and sees its own message', async () => {
  const md = await readFile(new URL('docs/cpg.md', ROOT), 'utf8');
  const block = /```js\n([\s\S]*?)```/.exec(md);
  assert.ok(block, 'docs/cpg.md has a js example');
  // Inside the package, `import ... from 'totem'` resolves to this build (package self-reference).
  const dir = new URL('dist/doc-examples/', ROOT);
  await mkdir(dir, { recursive: true });
  const file = fileURLToPath(new URL('chat.mjs', dir));
  await writeFile(file, block[1]!);
  const d = await LoopbackDaemons.start([1, 2]);
  try {
    const r = await new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
      const child = spawn(process.execPath, [file], {
        env: { ...process.env, TOTEM_SOCKET: d.node(2).socket },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      let err = '';
      child.stdout.on('data', (b: Buffer) => (out += b.toString()));
      child.stderr.on('data', (b: Buffer) => (err += b.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code, out, err });
      });
    });
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /members of chat \[ '2\/\d+' \]/);
    assert.match(r.out, /^2\/\d+: hello from \d+$/m);
  } finally {
    await d.stop();
    await rm(file, { force: true });
  }
});
