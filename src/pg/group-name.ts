import { MAX_GROUP_BYTES } from './frame.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: false });

/** A group name as given by callers: text (UTF-8 encoded) or raw bytes. */
export type GroupName = string | Uint8Array;

/** Encoded text names; services use a handful of fixed names, so this stays small. */
const encoded = new Map<string, Uint8Array>();
const ENCODED_CACHE_LIMIT = 1024;

export function groupBytes(group: GroupName): Uint8Array {
  const bytes = typeof group === 'string' ? encodeName(group) : group;
  if (bytes.length > MAX_GROUP_BYTES) {
    throw new RangeError(`pg group name is ${bytes.length} bytes, at most ${MAX_GROUP_BYTES} allowed`);
  }
  return bytes;
}

/** A map key that is equal for byte-identical names. */
export function groupKey(bytes: Uint8Array): string {
  let key = '';
  for (let i = 0; i < bytes.length; i++) key += String.fromCharCode(bytes[i]!);
  return key;
}

/** Text for the flight recorder's string table. */
export function groupLabel(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

function encodeName(name: string): Uint8Array {
  let bytes = encoded.get(name);
  if (bytes === undefined) {
    bytes = encoder.encode(name);
    if (encoded.size >= ENCODED_CACHE_LIMIT) encoded.clear();
    encoded.set(name, bytes);
  }
  return bytes;
}

/** Byte-wise equality of two names. */
export function sameName(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
