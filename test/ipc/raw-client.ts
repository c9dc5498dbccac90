/** A raw IPC client for tests: sends arbitrary bytes, collects decoded frames, notices the close. */
import { connect, type Socket } from 'node:net';
import {
  decodeFrame,
  encodeFrame,
  type Frame,
  FrameSplitter,
  IPC_MAGIC,
  IPC_VERSION,
} from '../../src/ipc/codec.js';

export class RawClient {
  readonly frames: Frame[] = [];
  readonly closed: Promise<void>;
  private readonly splitter = new FrameSplitter(64 * 1024 * 1024);
  private listeners: (() => void)[] = [];

  private constructor(readonly socket: Socket) {
    this.closed = new Promise((resolve) => socket.on('close', () => resolve()));
    socket.on('error', () => {});
    socket.on('data', (d: Buffer) => {
      for (const body of this.splitter.push(d)) this.frames.push(decodeFrame(body));
      for (const l of this.listeners) l();
    });
  }

  static async open(path: string): Promise<RawClient> {
    const socket = connect(path);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new RawClient(socket);
  }

  /** Connects and completes the handshake. */
  static async ready(path: string, pid = 4242): Promise<RawClient> {
    const c = await RawClient.open(path);
    c.send(encodeFrame({ type: 'hello', magic: IPC_MAGIC, version: IPC_VERSION, pid, name: 'raw' }));
    await c.waitFor((f) => f.type === 'welcome');
    return c;
  }

  send(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  request(reqId: number, service: number, op: number, payload: Uint8Array): void {
    this.send(encodeFrame({ type: 'request', reqId, service, op, payload }));
  }

  /** Resolves with the first frame (already received or coming) that matches. */
  waitFor(pred: (f: Frame) => boolean, timeoutMs = 5000): Promise<Frame> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const f = this.frames.find(pred);
        if (!f) return false;
        this.listeners = this.listeners.filter((l) => l !== listener);
        clearTimeout(timer);
        resolve(f);
        return true;
      };
      const listener = () => void check();
      const timer = setTimeout(() => {
        this.listeners = this.listeners.filter((l) => l !== listener);
        reject(
          new Error(`no matching frame in ${timeoutMs} ms; got ${this.frames.map((f) => f.type).join(',')}`),
        );
      }, timeoutMs);
      if (!check()) this.listeners.push(listener);
    });
  }
}
