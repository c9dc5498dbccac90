/**
 * The Node client library for cluster-wide POSIX byte-range locks: `import { Plock } from 'totem'`.
 *
 *   const plock = await Plock.connect({ socket: '/run/totem/totem.sock' });
 *   await plock.lock({ space: 'fs1', inode: 42, start: 0, end: PLOCK_EOF, owner: process.pid, exclusive: true });
 *   // ... the whole file is ours on every node ...
 *   await plock.unlock({ space: 'fs1', inode: 42, start: 0, end: PLOCK_EOF, owner: process.pid });
 *
 * Owner identity in the cluster is (node, connection, owner): locks of one owner never
 * conflict with each other, and a new lock replaces or merges the owner's overlapping ranges.
 * Closing the connection (or the process dying) releases every lock it holds and cancels its
 * waits. There is no reconnect: locks cannot survive their connection, so after the daemon goes
 * away every call rejects with NOT_CONNECTED and the instance emits 'close'.
 */

import { EventEmitter } from 'node:events';
import { TotemError } from '../ipc/errors.js';
import {
  decodeListReply,
  decodeLostEvent,
  decodeTestReply,
  encodeRequest,
  PLOCK_SERVICE_ID,
  PlockEvent,
  type PlockWireRequest,
  parsePlockErrorText,
} from '../services/plock/ipc-protocol.js';
import { MAX_SPACE_BYTES, PLOCK_EOF, type PlockHolder } from '../services/plock/types.js';
import { DecodeError } from '../wire/decode-error.js';
import { clientName } from './call-helpers.js';
import { IpcConnection } from './ipc-connection.js';

export { PLOCK_EOF, type PlockHolder };

export interface PlockTarget {
  /** Lock space (a file system), 1..64 bytes UTF-8. */
  readonly space: string;
  /** Resource id, a safe non-negative integer. */
  readonly inode: number;
  /** First byte, inclusive. */
  readonly start: number;
  /** Last byte, inclusive (PLOCK_EOF: to the end). */
  readonly end: number;
  /** u32 chosen by the client (like a pid). */
  readonly owner: number;
}

export interface PlockConnectOptions {
  readonly socket: string;
  /** Shown in the daemon's flight recorder (default: the script name). */
  readonly name?: string;
  readonly pid?: number;
  readonly signal?: AbortSignal;
}

export interface PlockLockOptions extends PlockTarget {
  readonly exclusive: boolean;
  /** F_SETLKW (true, the default): wait for the lock; F_SETLK (false): reject WOULD_BLOCK. */
  readonly wait?: boolean;
  /** Aborting cancels the wait in the daemon and rejects with the signal's reason. */
  readonly signal?: AbortSignal;
}

export type PlockErrorCode =
  | 'WOULD_BLOCK'
  | 'CANCELLED'
  | 'INVALID_PARAM'
  | 'TRY_AGAIN'
  | 'NOT_CONNECTED'
  | 'NO_SPACE'
  | 'DUPLICATE_REQUEST'
  | 'LOST'
  | 'PROTOCOL';

export class PlockError extends Error {
  override readonly name = 'PlockError';
  constructor(
    readonly code: PlockErrorCode | string,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}

const utf8 = new TextEncoder();

export interface PlockEvents {
  /** The connection ended (undefined after close()). */
  close: [reason: PlockError | undefined];
  /**
   * A lock this connection held was taken away when two sides of a network partition merged
   * and the other side's conflicting lock won (error code LOST). Stop using the range.
   */
  lost: [error: PlockError, holder: PlockHolder];
}

export class Plock extends EventEmitter<PlockEvents> {
  private nextToken = 1;
  private closed = false;

  private constructor(private conn: IpcConnection | undefined) {
    super();
  }

  /** Connects and completes the handshake; rejects with PlockError NOT_CONNECTED when unreachable. */
  static async connect(opts: PlockConnectOptions): Promise<Plock> {
    let plock: Plock | undefined;
    let conn: IpcConnection;
    try {
      conn = await IpcConnection.open({
        socket: opts.socket,
        name: opts.name ?? clientName(),
        pid: opts.pid ?? process.pid,
        ...(opts.signal ? { signal: opts.signal } : {}),
        onEvent: (service, event, payload) => plock?.event(service, event, payload),
        onClose: (reason) => plock?.ended(reason),
      });
    } catch (err) {
      throw err instanceof TotemError ? new PlockError('NOT_CONNECTED', err.message) : err;
    }
    plock = new Plock(conn);
    return plock;
  }

  /** This node's id, as the daemon stated it. */
  get nodeId(): number {
    return this.conn?.nodeId ?? 0;
  }

  get connected(): boolean {
    return this.conn?.isOpen ?? false;
  }

  /** F_SETLK / F_SETLKW. Resolves once the lock is held cluster-wide. */
  async lock(t: PlockLockOptions): Promise<void> {
    checkTarget(t);
    const signal = t.signal;
    signal?.throwIfAborted();
    const token = this.nextToken;
    this.nextToken = this.nextToken >= 0xffffffff ? 1 : this.nextToken + 1;
    const done = this.call({
      kind: 'lock',
      token,
      exclusive: t.exclusive,
      wait: t.wait ?? true,
      ...range(t),
    });
    if (!signal) {
      await done;
      return;
    }
    let aborted = false;
    const onAbort = () => {
      aborted = true;
      // The answer to the lock itself tells which won: CANCELLED, or granted before the cancel.
      this.call({ kind: 'cancel', token }).catch(() => {});
    };
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      await done;
    } catch (err) {
      if (aborted && err instanceof PlockError && err.code === 'CANCELLED') throw signal.reason;
      throw err;
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  /** Unlocks the owner's range (may split a held range). Unlocking nothing is not an error. */
  async unlock(t: PlockTarget): Promise<void> {
    checkTarget(t);
    await this.call({ kind: 'unlock', ...range(t) });
  }

  /** F_GETLK: a lock that would conflict, or undefined. */
  async test(t: PlockTarget & { exclusive: boolean }): Promise<PlockHolder | undefined> {
    checkTarget(t);
    return decode(decodeTestReply, await this.call({ kind: 'test', exclusive: t.exclusive, ...range(t) }));
  }

  /** Every granted lock this node knows in the space (optionally one inode). */
  async list(space: string, inode?: number): Promise<PlockHolder[]> {
    checkSpace(space);
    if (inode !== undefined && !(Number.isSafeInteger(inode) && inode >= 0)) {
      throw new PlockError('INVALID_PARAM', 'inode must be a safe non-negative integer');
    }
    const req: PlockWireRequest =
      inode === undefined ? { kind: 'list', space } : { kind: 'list', space, inode };
    return decode(decodeListReply, await this.call(req));
  }

  /** Closes the connection: the daemon releases every lock of it and cancels its waits. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.conn?.close();
    this.conn = undefined;
  }

  private async call(req: PlockWireRequest): Promise<Uint8Array> {
    const conn = this.conn;
    if (!conn?.isOpen) throw new PlockError('NOT_CONNECTED', this.closed ? 'closed' : 'not connected');
    const { op, payload } = encodeRequest(req);
    try {
      return await conn.request(PLOCK_SERVICE_ID, op, payload);
    } catch (err) {
      throw toPlockError(err);
    }
  }

  private event(service: number, event: number, payload: Uint8Array): void {
    if (service !== PLOCK_SERVICE_ID || event !== PlockEvent.Lost) return;
    let holder: PlockHolder;
    try {
      holder = decodeLostEvent(payload);
    } catch (err) {
      if (err instanceof DecodeError) return; // a damaged event names no lock we could act on
      throw err;
    }
    const what = `${holder.space}/${holder.inode} [${holder.start}..${holder.end}]`;
    this.emit('lost', new PlockError('LOST', `${what} was taken away by a partition merge`), holder);
  }

  private ended(reason: TotemError | undefined): void {
    this.emit('close', reason ? new PlockError('NOT_CONNECTED', reason.message) : undefined);
  }
}

function range(t: PlockTarget): PlockTarget {
  return { space: t.space, inode: t.inode, start: t.start, end: t.end, owner: t.owner };
}

function toPlockError(err: unknown): unknown {
  if (!(err instanceof TotemError)) return err;
  const parsed = parsePlockErrorText(err.message);
  if (parsed)
    return new PlockError(parsed.code, parsed.detail || parsed.code.toLowerCase().replace('_', ' '));
  if (err.codeName === 'LIBRARY') return new PlockError('NOT_CONNECTED', err.message);
  if (err.codeName === 'TRY_AGAIN' || err.codeName === 'INVALID_PARAM')
    return new PlockError(err.codeName, err.message);
  return new PlockError(err.codeName, err.message);
}

function decode<T>(fn: (p: Uint8Array) => T, payload: Uint8Array): T {
  try {
    return fn(payload);
  } catch (err) {
    if (err instanceof DecodeError) throw new PlockError('PROTOCOL', `malformed reply: ${err.message}`);
    throw err;
  }
}

function checkSpace(space: string): void {
  const n = typeof space === 'string' ? utf8.encode(space).length : 0;
  if (n === 0 || n > MAX_SPACE_BYTES)
    throw new PlockError('INVALID_PARAM', `space must be 1..${MAX_SPACE_BYTES} bytes`);
}

function checkTarget(t: PlockTarget): void {
  checkSpace(t.space);
  const offset = (v: number) => Number.isSafeInteger(v) && v >= 0;
  if (!offset(t.inode)) throw new PlockError('INVALID_PARAM', 'inode must be a safe non-negative integer');
  if (!offset(t.start) || !offset(t.end) || t.start > t.end) {
    throw new PlockError('INVALID_PARAM', 'range must be 0 <= start <= end <= PLOCK_EOF');
  }
  if (!(Number.isInteger(t.owner) && t.owner >= 0 && t.owner <= 0xffffffff)) {
    throw new PlockError('INVALID_PARAM', 'owner must be a u32');
  }
}
