import { MAX_GROUP_BYTES } from './frame.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: false });

/** A group name as given by callers: text (UTF-8 encoded) or raw bytes. */
export type GroupName = string | Uint8Array;

export function groupBytes(group: GroupName): Uint8Array {
  const bytes = typeof group === 'string' ? encoder.encode(group) : group;
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
