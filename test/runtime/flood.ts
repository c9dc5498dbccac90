/** Sends fuzz packets at one UDP port as fast as the socket takes them, within bounds. Not a test file. */
import { createSocket } from 'node:dgram';
import type { PacketFuzzer } from './fuzz-packets.js';

export interface FloodResult {
  readonly sent: number;
  readonly sendErrors: number;
  readonly ms: number;
}

/**
 * At most `maxPackets` or `maxMs`, whichever comes first, at about `perSecond` packets a
 * second spread over `ports` in turn (a receiver that cannot keep up only makes the kernel
 * drop, which tests nothing), with at most `inFlight` sends outstanding.
 */
export async function flood(
  fuzzer: PacketFuzzer,
  ports: readonly number[],
  maxPackets: number,
  maxMs: number,
  perSecond: number,
  inFlight = 256,
): Promise<FloodResult> {
  const socket = createSocket('udp4');
  socket.on('error', () => {});
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  const start = performance.now();
  let sent = 0;
  let pending = 0;
  let sendErrors = 0;
  let wake: (() => void) | undefined;
  const done = (err: Error | null): void => {
    pending--;
    if (err) sendErrors++;
    if (wake && pending < inFlight / 2) {
      const w = wake;
      wake = undefined;
      w();
    }
  };
  try {
    while (sent < maxPackets && performance.now() - start < maxMs) {
      // Yield now and then so that the test's own timers and sockets keep running.
      if (pending >= inFlight) await new Promise<void>((resolve) => (wake = resolve));
      if (sent % 64 === 0) {
        const ahead = (sent / perSecond) * 1000 - (performance.now() - start);
        if (ahead > 2) await new Promise((resolve) => setTimeout(resolve, ahead));
      }
      const packet = fuzzer.next();
      pending++;
      socket.send(packet, ports[sent % ports.length]!, '127.0.0.1', done);
      sent++;
    }
    while (pending > 0) await new Promise<void>((resolve) => (wake = resolve));
  } finally {
    socket.close();
  }
  return { sent, sendErrors, ms: performance.now() - start };
}
