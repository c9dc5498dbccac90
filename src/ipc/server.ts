/**
 * The daemon side of client IPC: a unix domain socket, one length-prefixed frame stream per
 * client, a handshake, then requests dispatched to services by service id and events pushed
 * back. Runtime code (uses node:net), not core.
 *
 * Faults are per connection: a malformed, oversized, unknown or pre-handshake request gets a
 * FAREWELL (or an error reply) and that connection is closed; the server keeps serving. A
 * client that stops reading is dropped once its unsent bytes pass `maxQueuedBytes`, so the
 * daemon's memory stays bounded whatever clients do.
 */
import { chmod, chown, lstat, mkdir, unlink } from 'node:fs/promises';
import { createServer, connect as netConnect, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { EV } from '../recorder/events/index.js';
import type { Recorder } from '../recorder/recorder.js';
import { DECODE_ERROR_CODES, DecodeError } from '../wire/decode-error.js';
import {
  DEFAULT_MAX_FRAME,
  decodeFrame,
  encodeFrame,
  type Frame,
  FrameSplitter,
  IPC_MAGIC,
  IPC_VERSION,
} from './codec.js';
import { ErrorCode } from './errors.js';
import type { IpcClient, IpcReply, IpcService } from './service.js';

export const DEFAULT_SOCKET_NAME = 'totem.sock';
export const DEFAULT_SOCKET_MODE = 0o770;
/** Unsent bytes a connection may hold before the client counts as not reading. */
export const DEFAULT_MAX_QUEUED_BYTES = 8 * 1024 * 1024;
export const DEFAULT_MAX_CONNECTIONS = 1024;
/** A connection that has not completed its handshake by then is closed. */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;

export const CloseReason = {
  ClientClosed: 0,
  SocketError: 1,
  BadFrame: 2,
  OversizedFrame: 3,
  BeforeHandshake: 4,
  UnknownService: 5,
  BadRequest: 6,
  SlowReader: 7,
  ServerClosed: 8,
  BadVersion: 9,
  TooManyConnections: 10,
  HandshakeTimeout: 11,
} as const;
export type CloseReason = (typeof CloseReason)[keyof typeof CloseReason];

export interface IpcServerOptions {
  /** Directory of the socket (created if missing). */
  readonly dir: string;
  readonly socketName?: string;
  /** Socket file mode (default 0770: owner and group may connect, like corosync's uidgid). */
  readonly mode?: number;
  /** Owner and group given to the socket file (needs the privilege to chown). */
  readonly uid?: number;
  readonly gid?: number;
  readonly recorder: Recorder;
  /** This node's id, told to clients in the handshake. */
  readonly nodeId: number;
  readonly maxFrame?: number;
  readonly maxQueuedBytes?: number;
  /** Connections beyond this many are refused with NO_MEMORY (default 1024). */
  readonly maxConnections?: number;
  readonly handshakeTimeoutMs?: number;
  /** The driver's clock (ms); the recorder's time is set from it once per input. */
  readonly clock?: () => number;
  /**
   * Called after each batch of client input has been handled (the daemon gives the ordering
   * layer a chance to run; tests settle a loopback ring here).
   */
  readonly afterInput?: () => void;
}

export interface IpcServerStats {
  accepted: number;
  closedByReason: Record<string, number>;
  requests: number;
  eventsPushed: number;
}

const REASON_NAMES = Object.keys(CloseReason);

class Connection implements IpcClient {
  pid = 0;
  name = '';
  state: 'hello' | 'ready' | 'closing' | 'closed' = 'hello';
  handshaken = false;
  released = false;
  readonly outbox: Uint8Array[] = [];
  outboxBytes = 0;
  closeReason: CloseReason = CloseReason.ClientClosed;
  closeDetail = 0;
  readonly splitter: FrameSplitter;

  constructor(
    readonly id: number,
    readonly socket: Socket,
    private readonly server: IpcServer,
    maxFrame: number,
  ) {
    this.splitter = new FrameSplitter(maxFrame);
  }

  get closed(): boolean {
    return this.state === 'closing' || this.state === 'closed';
  }

  push(service: number, event: number, payload: Uint8Array): boolean {
    if (this.closed) return false;
    this.server.recorder.rec(EV.IPC_EVENT_TX, this.id, service, event, payload.length);
    this.server.countEvent();
    return this.server.write(this, encodeFrame({ type: 'event', service, event, payload }));
  }
}

export class IpcServer {
  readonly path: string;
  readonly recorder: Recorder;
  readonly maxFrame: number;
  readonly maxQueuedBytes: number;
  private readonly services = new Map<number, IpcService>();
  private readonly connections = new Map<number, Connection>();
  private nextConnId = 1;
  private readonly clock: () => number;
  private readonly statsData: IpcServerStats = {
    accepted: 0,
    closedByReason: {},
    requests: 0,
    eventsPushed: 0,
  };
  private listening = false;

  private constructor(
    private readonly opts: IpcServerOptions,
    private readonly server: Server,
  ) {
    this.path = join(opts.dir, opts.socketName ?? DEFAULT_SOCKET_NAME);
    this.recorder = opts.recorder;
    this.maxFrame = opts.maxFrame ?? DEFAULT_MAX_FRAME;
    this.maxQueuedBytes = opts.maxQueuedBytes ?? DEFAULT_MAX_QUEUED_BYTES;
    this.clock = opts.clock ?? (() => performance.now());
  }

  /** Creates the socket (replacing a stale one) with the configured mode and owner, and listens. */
  static async listen(opts: IpcServerOptions): Promise<IpcServer> {
    const server = createServer({ allowHalfOpen: false });
    const ipc = new IpcServer(opts, server);
    server.on('connection', (socket) => ipc.accept(socket));
    await mkdir(opts.dir, { recursive: true, mode: 0o750 });
    await removeStaleSocket(ipc.path);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(ipc.path, () => {
        server.off('error', reject);
        resolve();
      });
    });
    ipc.listening = true;
    const mode = opts.mode ?? DEFAULT_SOCKET_MODE;
    try {
      await chmod(ipc.path, mode);
      if (opts.uid !== undefined || opts.gid !== undefined) {
        await chown(ipc.path, opts.uid ?? -1, opts.gid ?? -1);
      }
    } catch (err) {
      await ipc.close();
      throw err;
    }
    ipc.recorder.recNow(EV.IPC_LISTEN, mode, opts.uid ?? -1, opts.gid ?? -1);
    return ipc;
  }

  register(service: IpcService): void {
    if (this.services.has(service.id)) throw new Error(`IPC service id ${service.id} is registered twice`);
    this.services.set(service.id, service);
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  get stats(): Readonly<IpcServerStats> {
    return { ...this.statsData, closedByReason: { ...this.statsData.closedByReason } };
  }

  /** Stops accepting, closes every connection (services see each one disconnect), removes the socket. */
  async close(): Promise<void> {
    for (const conn of [...this.connections.values()]) {
      this.farewell(conn, ErrorCode.LIBRARY, 'the daemon is shutting down', CloseReason.ServerClosed);
    }
    if (!this.listening) return;
    this.listening = false;
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const conn of [...this.connections.values()]) conn.socket.destroy();
    await unlink(this.path).catch(() => {});
  }

  // ---- per connection ------------------------------------------------------------------------

  private accept(socket: Socket): void {
    const conn = new Connection(this.nextConnId++, socket, this, this.maxFrame);
    this.connections.set(conn.id, conn);
    this.statsData.accepted++;
    this.recorder.recNow(EV.IPC_CONN_OPEN, conn.id);
    if (this.connections.size > (this.opts.maxConnections ?? DEFAULT_MAX_CONNECTIONS)) {
      this.farewell(conn, ErrorCode.NO_MEMORY, 'too many client connections', CloseReason.TooManyConnections);
    } else {
      socket.setTimeout(this.opts.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS, () => {
        if (conn.state === 'hello') {
          this.farewell(conn, ErrorCode.PROTOCOL, 'no handshake in time', CloseReason.HandshakeTimeout);
        }
      });
    }
    socket.on('data', (data: Buffer) => this.input(conn, data));
    socket.on('error', () => {
      if (!conn.closed) {
        conn.closeReason = CloseReason.SocketError;
        conn.state = 'closing';
      }
    });
    socket.on('close', () => this.finish(conn));
  }

  private input(conn: Connection, data: Uint8Array): void {
    if (conn.closed) return;
    this.recorder.setTime(this.clock());
    let bodies: Uint8Array[];
    try {
      bodies = conn.splitter.push(data);
    } catch (err) {
      if (!(err instanceof DecodeError)) throw err;
      this.recorder.rec(EV.IPC_FRAME_BAD, conn.id, decodeCode(err), err.offset, data.length);
      this.farewell(
        conn,
        ErrorCode.PROTOCOL,
        `frame longer than ${this.maxFrame} bytes`,
        CloseReason.OversizedFrame,
      );
      return;
    }
    for (const body of bodies) {
      if (conn.closed) break;
      let frame: Frame;
      try {
        frame = decodeFrame(body);
      } catch (err) {
        if (!(err instanceof DecodeError)) throw err;
        this.recorder.rec(EV.IPC_FRAME_BAD, conn.id, decodeCode(err), err.offset, body.length);
        this.farewell(conn, ErrorCode.PROTOCOL, `malformed frame: ${err.code}`, CloseReason.BadFrame);
        break;
      }
      this.frame(conn, frame);
    }
    this.opts.afterInput?.();
  }

  private frame(conn: Connection, frame: Frame): void {
    if (conn.state === 'hello') {
      if (frame.type !== 'hello') {
        this.farewell(
          conn,
          ErrorCode.PROTOCOL,
          'a request before the handshake',
          CloseReason.BeforeHandshake,
        );
        return;
      }
      if (frame.version !== IPC_VERSION || frame.magic !== IPC_MAGIC) {
        this.farewell(
          conn,
          ErrorCode.NOT_SUPPORTED,
          `protocol version ${frame.version} (this daemon speaks ${IPC_VERSION})`,
          CloseReason.BadVersion,
        );
        return;
      }
      conn.pid = frame.pid;
      conn.name = frame.name;
      conn.state = 'ready';
      conn.handshaken = true;
      conn.socket.setTimeout(0);
      this.recorder.rec(EV.IPC_HELLO, conn.id, frame.pid, frame.version, this.recorder.intern(frame.name));
      this.write(
        conn,
        encodeFrame({
          type: 'welcome',
          version: IPC_VERSION,
          conn: conn.id,
          nodeId: this.opts.nodeId,
          maxFrame: this.maxFrame,
        }),
      );
      for (const service of this.services.values()) service.connected?.(conn);
      return;
    }
    if (frame.type !== 'request') {
      this.farewell(conn, ErrorCode.PROTOCOL, `unexpected ${frame.type} frame`, CloseReason.BadFrame);
      return;
    }
    this.statsData.requests++;
    this.recorder.rec(EV.IPC_REQUEST, conn.id, frame.service, frame.op, frame.reqId);
    const service = this.services.get(frame.service);
    if (!service) {
      this.reply(conn, frame.reqId, { code: ErrorCode.PROTOCOL, text: `no service ${frame.service}` });
      this.farewell(conn, ErrorCode.PROTOCOL, `no service ${frame.service}`, CloseReason.UnknownService);
      return;
    }
    let answered = false;
    const answer = (reply: IpcReply): void => {
      if (answered) throw new Error(`IPC request ${frame.reqId} answered twice`);
      answered = true;
      if (conn.closed) return;
      this.reply(conn, frame.reqId, reply);
      if (reply.code === ErrorCode.PROTOCOL) {
        this.farewell(conn, ErrorCode.PROTOCOL, reply.text ?? 'bad request', CloseReason.BadRequest);
      }
    };
    let reply: IpcReply | undefined;
    try {
      reply = service.request(conn, frame.op, frame.payload, answer);
    } catch (err) {
      if (!(err instanceof DecodeError)) throw err;
      this.recorder.rec(EV.IPC_FRAME_BAD, conn.id, decodeCode(err), err.offset, frame.payload.length);
      reply = { code: ErrorCode.PROTOCOL, text: `malformed ${service.name} request: ${err.message}` };
    }
    if (reply !== undefined) answer(reply);
  }

  private reply(conn: Connection, reqId: number, reply: IpcReply): void {
    const payload =
      reply.code === ErrorCode.OK
        ? (reply.payload ?? new Uint8Array(0))
        : new TextEncoder().encode(reply.text ?? '');
    this.recorder.rec(EV.IPC_REPLY, conn.id, reqId, reply.code, payload.length);
    this.write(conn, encodeFrame({ type: 'reply', reqId, code: reply.code, payload }));
  }

  /** Tells the client why, then closes its connection (the server itself carries on). */
  private farewell(conn: Connection, code: ErrorCode, text: string, reason: CloseReason): void {
    if (conn.closed) return;
    this.write(conn, encodeFrame({ type: 'farewell', code, text }));
    if (conn.closed) return;
    flush(conn);
    conn.closeReason = reason;
    conn.closeDetail = code;
    conn.state = 'closing';
    this.release(conn);
    conn.socket.end();
    // A client that never reads must not keep the socket open: end() waits for the flush.
    conn.socket.setTimeout(1000, () => conn.socket.destroy());
  }

  /**
   * @internal Queues bytes for the connection, or drops the connection when its unsent bytes
   * pass the bound. Frames queued in one turn of the event loop go out in one socket write
   * (setImmediate, not a microtask: the deliveries of every datagram read in one poll phase
   * — and the replies to every request read with them — share one syscall per client).
   */
  write(conn: Connection, bytes: Uint8Array): boolean {
    if (conn.closed) return false;
    const queued = conn.socket.writableLength + conn.outboxBytes;
    if (queued + bytes.length > this.maxQueuedBytes) {
      conn.closeReason = CloseReason.SlowReader;
      conn.closeDetail = queued + bytes.length;
      conn.state = 'closing';
      conn.outbox.length = 0;
      conn.outboxBytes = 0;
      // Services hear of it from the socket's close event, never from inside a push (which
      // runs within an ordered delivery).
      conn.socket.destroy();
      return false;
    }
    conn.outbox.push(bytes);
    conn.outboxBytes += bytes.length;
    if (conn.outbox.length === 1) setImmediate(flush, conn);
    return true;
  }

  /** @internal */
  countEvent(): void {
    this.statsData.eventsPushed++;
  }

  /** Services forget the connection (once), as soon as it stops being usable. */
  private release(conn: Connection): void {
    if (!conn.handshaken || conn.released) return;
    conn.released = true;
    this.recorder.setTime(this.clock());
    for (const service of this.services.values()) service.disconnected(conn);
    this.opts.afterInput?.();
  }

  private finish(conn: Connection): void {
    const queued = conn.socket.writableLength;
    this.release(conn);
    conn.state = 'closed';
    this.connections.delete(conn.id);
    const name = REASON_NAMES[conn.closeReason]!;
    this.statsData.closedByReason[name] = (this.statsData.closedByReason[name] ?? 0) + 1;
    this.recorder.recNow(EV.IPC_CLOSE, conn.id, conn.closeReason, conn.closeDetail, queued);
  }
}

function flush(conn: Connection): void {
  if (conn.outbox.length === 0) return;
  const data = conn.outbox.length === 1 ? conn.outbox[0]! : Buffer.concat(conn.outbox, conn.outboxBytes);
  conn.outbox.length = 0;
  conn.outboxBytes = 0;
  if (!conn.socket.destroyed) conn.socket.write(data);
}

function decodeCode(err: DecodeError): number {
  return Math.max(DECODE_ERROR_CODES.indexOf(err.code), 0);
}

async function removeStaleSocket(path: string): Promise<void> {
  let isSocket: boolean;
  try {
    isSocket = (await lstat(path)).isSocket();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  if (!isSocket) throw new Error(`${path} exists and is not a socket; refusing to replace it`);
  if (await answers(path)) throw new Error(`${path}: another daemon is listening on it`);
  await unlink(path);
}

/** Whether something accepts connections on the socket (a live daemon, not a stale file). */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = netConnect(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
}
