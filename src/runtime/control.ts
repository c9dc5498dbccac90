/**
 * The local control socket: a unix domain socket in the run dir (dir 0700, socket 0600).
 * One JSON object a line each way; a connection may carry several requests.
 *
 *   {"op":"status"}                                  → {"ok":true,"status":{…}}
 *   {"op":"load","count":N,"size":S,"safe":false}    → {"ok":true}   (built-in test group)
 *   {"op":"partition","groups":[[1,2],[3]]}          → {"ok":true}   (test-only; null heals)
 *   {"op":"load-reset"}                              → {"ok":true}   (restart the per-ring count/hash)
 *   {"op":"dump"}                                    → {"ok":true,"path":"…"}
 *   {"op":"digest"}                                  → {"ok":true,"digest":{…}} (replicated state, canonical)
 *   anything else                                    → {"ok":false,"error":"…"}
 */
import { chmodSync, unlinkSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { ensureRunDir } from '../recorder/process-ring.js';

export type ControlRequest =
  | { readonly op: 'status' }
  | { readonly op: 'load'; readonly count: number; readonly size: number; readonly safe?: boolean }
  | { readonly op: 'partition'; readonly groups: number[][] | null }
  | { readonly op: 'load-reset' }
  | { readonly op: 'dump' }
  | { readonly op: 'digest' };

export type ControlResponse =
  | { readonly ok: true; readonly [key: string]: unknown }
  | { readonly ok: false; readonly error: string };

export type ControlHandler = (req: ControlRequest) => ControlResponse;

/** A request line longer than this closes the connection (nobody legitimate sends that much). */
const MAX_LINE = 64 * 1024;

export class ControlError extends Error {
  override readonly name = 'ControlError';
}

export class ControlServer {
  private readonly sockets = new Set<Socket>();

  private constructor(
    readonly path: string,
    private readonly server: Server,
  ) {}

  /** Listens on `path`, replacing a stale socket; refuses if a live daemon answers there. */
  static async listen(path: string, runDir: string, handler: ControlHandler): Promise<ControlServer> {
    ensureRunDir(runDir);
    if (await answers(path)) throw new ControlError(`${path}: another daemon is already listening there`);
    try {
      unlinkSync(path);
    } catch {
      // No stale socket.
    }
    const server = createServer();
    const cs = new ControlServer(path, server);
    server.on('connection', (socket) => cs.serve(socket, handler));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      // The dir is 0700 already; the umask keeps the socket itself private while it appears.
      const old = process.umask(0o177);
      try {
        server.listen(path, () => {
          server.off('error', reject);
          resolve();
        });
      } finally {
        process.umask(old);
      }
    });
    chmodSync(path, 0o600);
    return cs;
  }

  private serve(socket: Socket, handler: ControlHandler): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let buffered = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      if (buffered.length > MAX_LINE && !buffered.includes('\n')) {
        socket.destroy();
        return;
      }
      let nl = buffered.indexOf('\n');
      while (nl >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (line.trim() !== '') socket.write(`${JSON.stringify(answer(line, handler))}\n`);
        nl = buffered.indexOf('\n');
      }
    });
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    try {
      unlinkSync(this.path);
    } catch {
      // Already removed.
    }
  }
}

function answer(line: string, handler: ControlHandler): ControlResponse {
  let req: unknown;
  try {
    req = JSON.parse(line);
  } catch {
    return { ok: false, error: 'request is not JSON' };
  }
  if (typeof req !== 'object' || req === null || typeof (req as { op?: unknown }).op !== 'string')
    return { ok: false, error: 'request needs an "op"' };
  try {
    return handler(req as ControlRequest);
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err) };
  }
}

function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** Sends one request and waits for its answer (rejects with ControlError on failure or timeout). */
export function controlRequest(
  path: string,
  req: ControlRequest,
  timeoutMs = 3000,
): Promise<ControlResponse> {
  return new Promise((resolve, reject) => {
    const s = connect(path);
    let buffered = '';
    const timer = setTimeout(() => {
      s.destroy();
      reject(new ControlError(`${path}: no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    s.setEncoding('utf8');
    s.once('connect', () => s.write(`${JSON.stringify(req)}\n`));
    s.on('data', (chunk: string) => {
      buffered += chunk;
      const nl = buffered.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      s.destroy();
      try {
        resolve(JSON.parse(buffered.slice(0, nl)) as ControlResponse);
      } catch {
        reject(new ControlError(`${path}: answer is not JSON`));
      }
    });
    s.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new ControlError(`${path}: ${err.code ?? err.message}`));
    });
  });
}
