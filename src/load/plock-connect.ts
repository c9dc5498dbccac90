/** How the loads reach the plock client library. */
import type { PlockClientLike, PlockConnect } from './plock-api.js';

/** The plock client (src/client/plock.ts), loaded when a load needs it. */
export async function loadPlockConnect(): Promise<PlockConnect> {
  const url = new URL('../client/plock.js', import.meta.url).href;
  let mod: { Plock?: { connect(o: { socket: string; name?: string }): Promise<PlockClientLike> } };
  try {
    mod = (await import(url)) as typeof mod;
  } catch {
    throw new Error('the plock client is not part of this build (use --load ckpt)');
  }
  const Plock = mod.Plock;
  if (!Plock) throw new Error('the plock client module has no Plock');
  return (socket, name) => Plock.connect({ socket, name });
}
