/**
 * `totem keygen [-k FILE] [--force] [--bytes N]`: writes a random shared key, mode 0400.
 * Every node of a cluster needs the same file (copy it securely).
 */
import { parseArgs } from 'node:util';
import { MIN_KEY_BYTES } from '../transport/crypto.js';
import { DEFAULT_KEY_BYTES, KeyFileError, MAX_KEY_BYTES, writeKeyFile } from '../transport/key-file.js';

export const DEFAULT_KEY_PATH = '/etc/totem/authkey';

const USAGE = `usage: totem keygen [-k FILE] [--force] [--bytes N]

Writes ${DEFAULT_KEY_BYTES} random bytes (or N, ${MIN_KEY_BYTES}..${MAX_KEY_BYTES}) to FILE (default ${DEFAULT_KEY_PATH})
with mode 0400. Refuses to replace an existing file unless --force is given.
Copy the same file to every node; totem.keyfile names it in the configuration.
`;

export async function run(args: string[]): Promise<number> {
  let values: { keyfile?: string; force?: boolean; bytes?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args,
      options: {
        keyfile: { type: 'string', short: 'k' },
        force: { type: 'boolean', short: 'f' },
        bytes: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    process.stderr.write(`totem keygen: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const path = values.keyfile ?? DEFAULT_KEY_PATH;
  const bytes = values.bytes === undefined ? DEFAULT_KEY_BYTES : Number(values.bytes);
  try {
    const written = await writeKeyFile(path, { bytes, force: values.force ?? false });
    process.stdout.write(`totem keygen: wrote ${written} random bytes to ${path} (mode 0400)\n`);
    return 0;
  } catch (err) {
    if (err instanceof KeyFileError) {
      process.stderr.write(`totem keygen: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}
