import type { SimIo } from '../../src/cli/sim-command.js';

/** A SimIo that collects what `totem sim` prints (stderr is not a terminal: no progress bar). */
export function captureSimIo(): SimIo & { stdout: string; stderr: string } {
  const io = {
    stdout: '',
    stderr: '',
    errIsTty: false,
    out(t: string) {
      io.stdout += t;
    },
    err(t: string) {
      io.stderr += t;
    },
  };
  return io;
}
