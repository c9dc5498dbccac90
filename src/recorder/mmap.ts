import { closeSync, ftruncateSync } from 'node:fs';
import { createRequire } from 'node:module';

/**
 * Maps a file into memory with MAP_SHARED, so that every store lands in the page cache
 * at once and survives kill -9, abort and out-of-memory of this process.
 *
 * koffi (a prebuilt FFI, no compiler needed) calls libc's mmap, and `koffi.view` wraps the
 * mapping as an ArrayBuffer. The mapping lives as long as the process.
 */

interface Koffi {
  load(path: string): { func(signature: string): (...args: unknown[]) => unknown };
  view(ptr: unknown, len: number): ArrayBuffer;
}

const PROT_READ = 1;
const PROT_WRITE = 2;
const MAP_SHARED = 1;

type MmapFn = (addr: null, len: number, prot: number, flags: number, fd: number, off: number) => unknown;
let mmapFn: MmapFn | undefined;
let koffi: Koffi | undefined;
let unavailable: string | undefined;

function load(): string | undefined {
  if (mmapFn || unavailable) return unavailable;
  try {
    if (process.platform !== 'linux') throw new Error(`platform ${process.platform} is not supported`);
    const require = createRequire(import.meta.url);
    koffi = require('koffi') as Koffi;
    const libc = koffi.load('libc.so.6');
    mmapFn = libc.func(
      'void *mmap(void *addr, size_t len, int prot, int flags, int fd, intptr_t off)',
    ) as unknown as MmapFn;
  } catch (err) {
    unavailable = `memory mapping unavailable: ${(err as Error).message}`;
  }
  return unavailable;
}

/** Why mapping cannot be used here, or undefined when it can. */
export function mappingUnavailableReason(): string | undefined {
  return load();
}

/**
 * Maps `size` bytes of the open file `fd` (which it then closes). The file must already
 * hold `size` bytes. Throws on failure; callers fall back to a heap ring.
 */
export function mapOpenFile(fd: number, size: number): ArrayBuffer {
  const why = load();
  if (why) {
    closeSync(fd);
    throw new Error(why);
  }
  try {
    ftruncateSync(fd, size);
    const ptr = mmapFn!(null, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    // MAP_FAILED is (void *)-1.
    if (ptr === null || (typeof ptr === 'bigint' && ptr === 0xffffffffffffffffn))
      throw new Error('mmap failed');
    return koffi!.view(ptr, size);
  } finally {
    closeSync(fd);
  }
}
