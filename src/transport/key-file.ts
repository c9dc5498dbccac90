/** The shared key file: reading it with checks, and writing a fresh one (`totem keygen`). */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { chmod, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { MIN_KEY_BYTES } from './crypto.js';

export const MAX_KEY_BYTES = 4096;
export const DEFAULT_KEY_BYTES = 128;

export class KeyFileError extends Error {
  override readonly name = 'KeyFileError';
  constructor(
    readonly path: string,
    readonly detail: string,
  ) {
    super(`${path}: ${detail}`);
  }
}

export interface LoadedKey {
  readonly key: Uint8Array;
  /** E.g. a key readable by other users. */
  readonly warnings: readonly string[];
}

export async function readKeyFile(path: string): Promise<LoadedKey> {
  let bytes: Buffer;
  let mode: number;
  try {
    mode = (await stat(path)).mode;
    bytes = await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new KeyFileError(
      path,
      `cannot read the key file (${code}); make one with: totem keygen -k ${path}`,
    );
  }
  if (bytes.length < MIN_KEY_BYTES) {
    throw new KeyFileError(
      path,
      `the key has ${bytes.length} bytes; at least ${MIN_KEY_BYTES} are needed (make one with: totem keygen -k ${path})`,
    );
  }
  if (bytes.length > MAX_KEY_BYTES) {
    throw new KeyFileError(path, `the key has ${bytes.length} bytes; at most ${MAX_KEY_BYTES} are accepted`);
  }
  const warnings: string[] = [];
  if ((mode & 0o077) !== 0) {
    warnings.push(
      `${path}: the key file is readable by other users (mode ${(mode & 0o777).toString(8)}); chmod 400 it`,
    );
  }
  return { key: new Uint8Array(bytes), warnings };
}

export interface WriteKeyOptions {
  readonly bytes?: number;
  /** Replace an existing file. */
  readonly force?: boolean;
}

/**
 * Writes a random key with mode 0400. Without `force` an existing file is never touched
 * (the create is exclusive). With `force` the key goes to a temporary file in the same
 * directory first and is renamed over the old one, so a crash leaves the old or the new key.
 */
export async function writeKeyFile(path: string, opts: WriteKeyOptions = {}): Promise<number> {
  const size = opts.bytes ?? DEFAULT_KEY_BYTES;
  if (!Number.isInteger(size) || size < MIN_KEY_BYTES || size > MAX_KEY_BYTES) {
    throw new KeyFileError(path, `key size must be ${MIN_KEY_BYTES}..${MAX_KEY_BYTES} bytes, got ${size}`);
  }
  const key = randomBytes(size);
  const target = opts.force ? join(dirname(path), `.${basename(path)}.${process.pid}.tmp`) : path;
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(target, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o400);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' && !opts.force)
      throw new KeyFileError(path, 'already exists; refusing to overwrite it (use --force)');
    if (code === 'ENOENT') {
      throw new KeyFileError(
        path,
        `cannot create the key file: the directory ${dirname(path)} does not exist`,
      );
    }
    throw new KeyFileError(path, `cannot create the key file (${code ?? String(err)})`);
  }
  try {
    await handle.writeFile(key);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    // The umask cannot add bits to 0400, but a pre-set default ACL or odd umask could remove
    // the owner's read bit; set the mode explicitly.
    await chmod(target, 0o400);
    if (opts.force) await rename(target, path);
  } catch (err) {
    if (opts.force) await unlink(target).catch(() => undefined);
    throw new KeyFileError(
      path,
      `cannot install the key file (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
    );
  }
  return size;
}
