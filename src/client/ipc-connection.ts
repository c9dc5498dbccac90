/**
 * One client connection to a daemon's IPC socket: connect, handshake, request/reply matching
 * by request id, events handed to a callback. No retry and no reconnect here (cpg.ts does
 * those); when the socket ends, every pending request fails with LIBRARY.
 */
import { connect as netConnect, type Socket } from 'node:net';
import {
  DEFAULT_MAX_FRAME,
  decodeFrame,
  encodeFrame,
  type Frame,
  FrameSplitter,
  IPC_MAGIC,
  IPC_VERSION,
} from '../ipc/codec.js';
import { ErrorCode, isErrorCode, TotemError } from '../ipc/errors.js';
import { DecodeError } from '../wire/decode-error.js';

export interface IpcConnectionOptions {
  readonly socket: string;
  readonly name: string;
  readonly pid: number;
  readonly signal?: AbortSignal;
  readonly onEvent: (service: number, event: number, payload: Uint8Array) => void;
  /** Called once when the connection ends, with why (undefined after close()). */
  readonly onClose: (reason: TotemError | undefined) => void;
}

interface Pending {
  resolve(payload: Uint8Array): void;
  reject(err: TotemError): void;
}

const decoder = new TextDecoder();

export class IpcConnection {
  readonly conn: number;
  readonly nodeId: number;
  readonly maxFrame: number;
  private readonly pending = new Map<number, Pending>();
  private nextReqId = 1;
  private ended = false;
  private readonly outbox: Uint8Array[] = [];
  private closing = false;

  private constructor(
    private readonly socket: Socket,
    private readonly splitter: FrameSplitter,
    welcome: Extract<Frame, { type: 'welcome' }>,
    private readonly opts: IpcConnectionOptions,
  ) {
    this.conn = welcome.conn;
    this.nodeId = welcome.nodeId;
    this.maxFrame = welcome.maxFrame;
  }

  static async open(opts: IpcConnectionOptions): Promise<IpcConnection> {
    opts.signal?.throwIfAborted();
    const socket = netConnect(opts.socket);
    const splitter = new FrameSplitter(DEFAULT_MAX_FRAME);
    let early: Uint8Array[] = [];
    const welcome = await new Promise<Extract<Frame, { type: 'welcome' }>>((resolve, reject) => {
      const fail = (err: Error) => {
        cleanup();
        socket.destroy();
        reject(err);
      };
      const onAbort = () => fail(new TotemError(ErrorCode.LIBRARY, 'connect aborted'));
      const onError = (err: Error) =>
        fail(new TotemError(ErrorCode.LIBRARY, `cannot connect to ${opts.socket}: ${err.message}`));
      const onClose = () =>
        fail(new TotemError(ErrorCode.LIBRARY, `${opts.socket} closed during the handshake`));
      const onData = (data: Buffer) => {
        let bodies: Uint8Array[];
        try {
          bodies = splitter.push(data);
        } catch {
          return fail(new TotemError(ErrorCode.PROTOCOL, 'the daemon sent an oversized frame'));
        }
        if (bodies.length === 0) return;
        let frame: Frame;
        try {
          frame = decodeFrame(bodies[0]!);
        } catch (err) {
          return fail(new TotemError(ErrorCode.PROTOCOL, `bad handshake reply: ${(err as Error).message}`));
        }
        if (frame.type === 'farewell') {
          return fail(new TotemError(isErrorCode(frame.code) ? frame.code : ErrorCode.PROTOCOL, frame.text));
        }
        if (frame.type !== 'welcome')
          return fail(new TotemError(ErrorCode.PROTOCOL, `expected WELCOME, got ${frame.type}`));
        early = bodies.slice(1);
        cleanup();
        resolve(frame);
      };
      const cleanup = () => {
        socket.off('error', onError);
        socket.off('close', onClose);
        socket.off('data', onData);
        opts.signal?.removeEventListener('abort', onAbort);
      };
      socket.on('error', onError);
      socket.on('close', onClose);
      socket.on('data', onData);
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      socket.once('connect', () => {
        socket.write(
          encodeFrame({
            type: 'hello',
            magic: IPC_MAGIC,
            version: IPC_VERSION,
            pid: opts.pid,
            name: opts.name,
          }),
        );
      });
    });
    const c = new IpcConnection(socket, splitter, welcome, opts);
    socket.on('data', (data: Buffer) => c.input(data));
    socket.on('error', (err) => c.end(new TotemError(ErrorCode.LIBRARY, `connection lost: ${err.message}`)));
    socket.on('close', () =>
      c.end(new TotemError(ErrorCode.LIBRARY, 'connection lost: the daemon closed it')),
    );
    for (const body of early) c.body(body);
    return c;
  }

  get isOpen(): boolean {
    return !this.ended;
  }

  /** Sends a request; resolves with the reply payload, rejects with TotemError. */
  request(service: number, op: number, payload: Uint8Array): Promise<Uint8Array> {
    if (this.ended) return Promise.reject(new TotemError(ErrorCode.LIBRARY, 'not connected'));
    const reqId = this.nextReqId;
    this.nextReqId = this.nextReqId === 0xffffffff ? 1 : this.nextReqId + 1;
    const frame = encodeFrame({ type: 'request', reqId, service, op, payload });
    if (frame.length - 4 > this.maxFrame) {
      return Promise.reject(
        new TotemError(ErrorCode.TOO_BIG, `request of ${frame.length} bytes exceeds ${this.maxFrame}`),
      );
    }
    return new Promise((resolve, reject) => {
      this.pending.set(reqId, { resolve, reject });
      // Requests made in one turn of the event loop go out in one write (setImmediate, not a
      // microtask: the sends that the replies of one read set off all make it in).
      this.outbox.push(frame);
      if (this.outbox.length === 1) setImmediate(() => this.flush());
    });
  }

  private flush(): void {
    const data = this.outbox.length === 1 ? this.outbox[0]! : Buffer.concat(this.outbox);
    this.outbox.length = 0;
    if (!this.ended) this.socket.write(data);
  }

  /** Stops reading (back-pressure from a slow consumer) or resumes. */
  setPaused(paused: boolean): void {
    if (paused) this.socket.pause();
    else this.socket.resume();
  }

  close(): void {
    if (this.ended) return;
    this.closing = true;
    this.socket.end();
    this.end(undefined);
  }

  private input(data: Uint8Array): void {
    let bodies: Uint8Array[];
    try {
      bodies = this.splitter.push(data);
    } catch {
      this.socket.destroy();
      this.end(new TotemError(ErrorCode.PROTOCOL, 'the daemon sent an oversized frame'));
      return;
    }
    for (const body of bodies) if (!this.ended) this.body(body);
  }

  private body(body: Uint8Array): void {
    let frame: Frame;
    try {
      frame = decodeFrame(body);
    } catch (err) {
      if (!(err instanceof DecodeError)) throw err;
      this.socket.destroy();
      this.end(new TotemError(ErrorCode.PROTOCOL, `malformed frame from the daemon: ${err.message}`));
      return;
    }
    switch (frame.type) {
      case 'reply': {
        const p = this.pending.get(frame.reqId);
        if (!p) return;
        this.pending.delete(frame.reqId);
        if (frame.code === ErrorCode.OK) p.resolve(frame.payload);
        else {
          const code = isErrorCode(frame.code) ? frame.code : ErrorCode.LIBRARY;
          p.reject(new TotemError(code, decoder.decode(frame.payload) || 'refused'));
        }
        return;
      }
      case 'event':
        this.opts.onEvent(frame.service, frame.event, frame.payload);
        return;
      case 'farewell':
        this.socket.destroy();
        this.end(new TotemError(isErrorCode(frame.code) ? frame.code : ErrorCode.PROTOCOL, frame.text));
        return;
      default:
        this.socket.destroy();
        this.end(new TotemError(ErrorCode.PROTOCOL, `unexpected ${frame.type} frame from the daemon`));
    }
  }

  private end(reason: TotemError | undefined): void {
    if (this.ended) return;
    this.ended = true;
    const err = reason ?? new TotemError(ErrorCode.LIBRARY, 'connection closed');
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    this.opts.onClose(this.closing ? undefined : reason);
  }
}
