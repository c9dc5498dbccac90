/**
 * Small byte arrays carved out of shared slabs. Every `new Uint8Array(n)` above V8's
 * on-heap limit (64 bytes) creates its own ArrayBuffer backing store, which costs a few
 * microseconds to make and to collect; a packet or a payload is made per message on the
 * hottest paths (the simulator measured it as its single largest cost). A view into a slab
 * costs a small object only. Node's Buffer pool does the same for its small buffers.
 *
 * The price: a view keeps its whole slab alive, so a holder of one small array pins up to
 * SLAB_BYTES. Use it for bytes that live briefly or in bulk (packets, queued payloads).
 */
const SLAB_BYTES = 16 * 1024;
/** Larger requests get their own buffer (a slab would waste too much of its tail). */
const MAX_FROM_SLAB = 2048;

let slab = new ArrayBuffer(SLAB_BYTES);
let used = 0;

/** A zero-filled array of n bytes. */
export function allocBytes(n: number): Uint8Array {
  if (n > MAX_FROM_SLAB) return new Uint8Array(n);
  if (used + n > SLAB_BYTES) {
    slab = new ArrayBuffer(SLAB_BYTES);
    used = 0;
  }
  const out = new Uint8Array(slab, used, n);
  // Eight-byte alignment keeps a DataView or a wider typed array over it on aligned addresses.
  used += (n + 7) & ~7;
  return out;
}

/** A copy of `bytes` (as `bytes.slice()`, but carved from a slab). */
export function copyBytes(bytes: Uint8Array): Uint8Array {
  const out = allocBytes(bytes.length);
  out.set(bytes);
  return out;
}
