/** What the IPC server asks of a service (cpg, ckpt, ...) and offers it per connection. */
import type { ErrorCode } from './errors.js';

export interface IpcReply {
  readonly code: ErrorCode;
  /** The reply body when code is OK (may be empty). */
  readonly payload?: Uint8Array;
  /** Why, when code is not OK (sent to the client as UTF-8). */
  readonly text?: string;
}

/** One client connection as a service sees it. */
export interface IpcClient {
  /** Unique per server run, never reused while the server runs. */
  readonly id: number;
  /** The pid the client stated in its handshake. */
  readonly pid: number;
  readonly name: string;
  /**
   * Queues one event to the client. False when the connection is closed or was just dropped
   * because its outgoing queue passed the bound (the client stopped reading).
   */
  push(service: number, event: number, payload: Uint8Array): boolean;
  readonly closed: boolean;
}

export interface IpcService {
  /** The service id requests carry (cpg is 2, as in corosync). */
  readonly id: number;
  readonly name: string;
  /** A client completed its handshake. */
  connected?(client: IpcClient): void;
  /**
   * Handles one request: returns the reply, or undefined and calls `answer` exactly once later
   * (a service that replies only once its message is ordered). `answer` after the client is
   * gone does nothing. May throw DecodeError for a malformed payload; the server then answers
   * PROTOCOL and closes the connection, as it does for a PROTOCOL reply. `payload` is a view
   * valid only during the call: copy what you keep.
   */
  request(
    client: IpcClient,
    op: number,
    payload: Uint8Array,
    answer: (reply: IpcReply) => void,
  ): IpcReply | undefined;
  /** The connection is gone (closed, died, or dropped): release everything it held. Called once. */
  disconnected(client: IpcClient): void;
}
