import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CkptDaemons } from './daemons.js';

// dist/test/ckpt-client → the repository root is three levels up.
const ROOT = new URL('../../../', import.meta.url);

function runNode(file: string, socket: string): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [file], {
      env: { ...process.env, TOTEM_SOCKET: socket },
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
}

test('the client example in docs/ckpt.md runs against daemons: the counter is shared by every node', async () => {
  const md = await readFile(new URL('docs/ckpt.md', ROOT), 'utf8');
  const block = /```js\n([\s\S]*?)```/.exec(md);
  assert.ok(block, 'docs/ckpt.md has a js example');
  // Inside the package, `import ... from 'totem'` resolves to this build (package self-reference).
  const dir = new URL('dist/doc-examples/', ROOT);
  await mkdir(dir, { recursive: true });
  const file = fileURLToPath(new URL('ckpt-counter.mjs', dir));
  await writeFile(file, block[1]!);
  const d = await CkptDaemons.start([1, 2, 3]);
  try {
    const first = await runNode(file, d.node(1).socket);
    assert.equal(first.code, 0, first.err);
    assert.match(first.out, /^section value: 1 bytes$/m);
    assert.match(first.out, /^counter 1$/m);
    const second = await runNode(file, d.node(3).socket);
    assert.equal(second.code, 0, second.err);
    assert.match(second.out, /^counter 2$/m);
    const [a, ...rest] = d.dumps();
    for (const r of rest) assert.equal(r, a);
  } finally {
    await d.stop();
    await rm(file, { force: true });
  }
});
