/** How the loads reach the plock client library. */
import { Plock } from '../client/plock.js';
import type { PlockConnect } from './plock-api.js';

/** Connects a real Plock client (as a PlockConnect: the loads' view of it). */
export async function loadPlockConnect(): Promise<PlockConnect> {
  return (socket, name) => Plock.connect({ socket, name });
}
