import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { KeyFileError, readKeyFile, writeKeyFile } from '../../src/transport/key-file.js';

const run = promisify(execFile);
const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
let dir = '';

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'totem-key-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('writeKeyFile: random bytes, mode 0400, never overwrites without force', async () => {
  const path = join(dir, 'a');
  assert.equal(await writeKeyFile(path), 128);
  const first = await readFile(path);
  assert.equal(first.length, 128);
  assert.equal((await stat(path)).mode & 0o777, 0o400);
  await assert.rejects(
    writeKeyFile(path),
    (e: unknown) =>
      e instanceof KeyFileError &&
      e.message === `${path}: already exists; refusing to overwrite it (use --force)`,
  );
  assert.deepEqual(await readFile(path), first);
  await writeKeyFile(path, { force: true, bytes: 64 });
  const second = await readFile(path);
  assert.equal(second.length, 64);
  assert.notDeepEqual(second, first.subarray(0, 64));
  assert.equal((await stat(path)).mode & 0o777, 0o400);
  await assert.rejects(
    writeKeyFile(join(dir, 'b'), { bytes: 8 }),
    /key size must be 32\.\.4096 bytes, got 8/,
  );
  const nowhere = join(dir, 'no-such-dir', 'k');
  await assert.rejects(
    writeKeyFile(nowhere),
    (e: unknown) =>
      e instanceof KeyFileError &&
      e.message ===
        `${nowhere}: cannot create the key file: the directory ${join(dir, 'no-such-dir')} does not exist`,
  );
});

test('readKeyFile: checks size and warns about loose permissions', async () => {
  const path = join(dir, 'loose');
  await writeFile(path, Buffer.alloc(64, 7), { mode: 0o644 });
  const loaded = await readKeyFile(path);
  assert.equal(loaded.key.length, 64);
  assert.deepEqual(loaded.warnings, [
    `${path}: the key file is readable by other users (mode 644); chmod 400 it`,
  ]);
  const short = join(dir, 'short');
  await writeFile(short, Buffer.alloc(10), { mode: 0o400 });
  await assert.rejects(
    readKeyFile(short),
    (e: unknown) =>
      e instanceof KeyFileError &&
      e.message ===
        `${short}: the key has 10 bytes; at least 32 are needed (make one with: totem keygen -k ${short})`,
  );
  await assert.rejects(readKeyFile(join(dir, 'none')), /cannot read the key file \(ENOENT\)/);
});

test('totem keygen -k FILE: writes once, refuses the second time, --force replaces', async () => {
  const path = join(dir, 'cli-key');
  const first = await run(process.execPath, [MAIN, 'keygen', '-k', path]);
  assert.equal(first.stdout, `totem keygen: wrote 128 random bytes to ${path} (mode 0400)\n`);
  await assert.rejects(run(process.execPath, [MAIN, 'keygen', '-k', path]), (e: unknown) => {
    const err = e as { code: number; stderr: string };
    return (
      err.code === 1 &&
      err.stderr === `totem keygen: ${path}: already exists; refusing to overwrite it (use --force)\n`
    );
  });
  const forced = await run(process.execPath, [MAIN, 'keygen', '-k', path, '--force', '--bytes', '32']);
  assert.match(forced.stdout, /wrote 32 random bytes/);
  assert.equal((await stat(path)).mode & 0o777, 0o400);
  await assert.rejects(
    run(process.execPath, [MAIN, 'keygen', '--bogus']),
    (e: unknown) => (e as { code: number }).code === 2,
  );
});
