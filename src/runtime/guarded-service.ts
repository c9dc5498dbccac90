/**
 * Client requests reach the services straight from the IPC server, outside the runtime's
 * input(). This wrapper gives them the same fault handling: anything a service throws other
 * than a DecodeError (a malformed request, which the server answers itself) is a broken
 * invariant, handed to `fail` (recorded, ring flushed, the daemon stops) instead of escaping
 * as an uncaught exception.
 */
import type { IpcClient, IpcReply, IpcService } from '../ipc/service.js';
import { DecodeError } from '../wire/decode-error.js';

export class GuardedService implements IpcService {
  readonly id: number;
  readonly name: string;

  constructor(
    private readonly inner: IpcService,
    private readonly usable: () => boolean,
    private readonly fail: (err: unknown) => void,
  ) {
    this.id = inner.id;
    this.name = inner.name;
  }

  connected(client: IpcClient): void {
    this.guard(() => this.inner.connected?.(client));
  }

  disconnected(client: IpcClient): void {
    this.guard(() => this.inner.disconnected(client));
  }

  request(
    client: IpcClient,
    op: number,
    payload: Uint8Array,
    answer: (reply: IpcReply) => void,
  ): IpcReply | undefined {
    return this.guard(() => this.inner.request(client, op, payload, answer));
  }

  private guard<T>(call: () => T): T | undefined {
    if (!this.usable()) return undefined;
    try {
      return call();
    } catch (err) {
      if (err instanceof DecodeError) throw err;
      this.fail(err);
      return undefined;
    }
  }
}
