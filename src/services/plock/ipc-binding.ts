/**
 * Binds the sans-IO plock service to the IPC server: decodes requests, hands them to the
 * service with a binding-assigned reqId, answers each with the service's one reply. The
 * service's replies must be routed here (its `onReply` calls `binding.reply`). A LOCK carries
 * a client-chosen token so that a later CANCEL on the same connection can name it.
 */
import { ErrorCode } from '../../ipc/errors.js';
import type { IpcClient, IpcReply, IpcService } from '../../ipc/service.js';
import {
  decodeRequest,
  encodeCancelReply,
  encodeListReply,
  encodeLostEvent,
  encodeTestReply,
  PLOCK_SERVICE_ID,
  PlockEvent,
  plockErrorText,
} from './ipc-protocol.js';
import type { PlockLost, PlockService } from './plock-service.js';
import type { PlockErrorCode, PlockReply, PlockRequest } from './types.js';

export interface PlockIpcOptions {
  /** The driver's clock (ms), passed to the service with every request. */
  readonly clock: () => number;
}

const IPC_CODE: Record<PlockErrorCode, ErrorCode> = {
  WOULD_BLOCK: ErrorCode.BUSY,
  CANCELLED: ErrorCode.BUSY,
  INVALID_PARAM: ErrorCode.INVALID_PARAM,
  TRY_AGAIN: ErrorCode.TRY_AGAIN,
  NO_SPACE: ErrorCode.NO_MEMORY,
  DUPLICATE_REQUEST: ErrorCode.EXIST,
  // Not a reply today (the service reports lost locks through onLost); kept total for the map.
  LOST: ErrorCode.TRY_AGAIN,
};

interface Waiting {
  readonly client: number;
  readonly token: number | undefined;
  readonly answer: (reply: IpcReply) => void;
}

const EMPTY = new Uint8Array(0);

export class PlockIpcService implements IpcService {
  readonly id = PLOCK_SERVICE_ID;
  readonly name = 'plock';
  private readonly waiting = new Map<number, Waiting>();
  /** `${client}:${token}` of a waiting LOCK → its service reqId. */
  private readonly tokens = new Map<string, number>();
  private nextReqId = 1;
  /** Connections that used this service, to push LOST events to. */
  private readonly clients = new Map<number, IpcClient>();
  private readonly clock: () => number;

  constructor(
    private readonly plock: PlockService,
    opts: PlockIpcOptions,
  ) {
    this.clock = opts.clock;
  }

  /** Requests waiting for the service's reply (a client that died leaves none behind). */
  get pendingRequests(): number {
    return this.waiting.size;
  }

  request(
    client: IpcClient,
    op: number,
    payload: Uint8Array,
    answer: (reply: IpcReply) => void,
  ): IpcReply | undefined {
    const wire = decodeRequest(op, payload);
    this.clients.set(client.id, client);
    const reqId = this.nextReqId;
    this.nextReqId = this.nextReqId >= 0x7fffffff ? 1 : this.nextReqId + 1;
    let req: PlockRequest;
    let token: number | undefined;
    switch (wire.kind) {
      case 'lock': {
        token = wire.token;
        const tk = `${client.id}:${token}`;
        if (this.tokens.has(tk)) {
          return { code: ErrorCode.EXIST, text: plockErrorText('DUPLICATE_REQUEST', `token ${token}`) };
        }
        this.tokens.set(tk, reqId);
        const { token: _t, ...rest } = wire;
        req = { ...rest, reqId };
        break;
      }
      case 'cancel': {
        const target = this.tokens.get(`${client.id}:${wire.token}`);
        if (target === undefined) return { code: ErrorCode.OK, payload: encodeCancelReply(false) };
        req = { kind: 'cancel', reqId, target };
        break;
      }
      default:
        req = { ...wire, reqId } as PlockRequest;
    }
    this.waiting.set(reqId, { client: client.id, token, answer });
    this.plock.request(client.id, req, this.clock());
    return undefined;
  }

  disconnected(client: IpcClient): void {
    this.clients.delete(client.id);
    for (const [reqId, w] of this.waiting) if (w.client === client.id) this.waiting.delete(reqId);
    for (const k of [...this.tokens.keys()]) if (k.startsWith(`${client.id}:`)) this.tokens.delete(k);
    this.plock.clientGone(client.id, this.clock());
  }

  /** A lock of a client that a partition merge took away (wire it to the service's `onLost`). */
  lost(l: PlockLost): void {
    this.clients.get(l.client)?.push(PLOCK_SERVICE_ID, PlockEvent.Lost, encodeLostEvent(l.holder));
  }

  /** The service's reply to a request made through this binding (wire it to `onReply`). */
  reply(r: PlockReply): void {
    const w = this.waiting.get(r.reqId);
    if (!w || w.client !== r.client) return;
    this.waiting.delete(r.reqId);
    if (w.token !== undefined) this.tokens.delete(`${w.client}:${w.token}`);
    w.answer(toIpcReply(r));
  }
}

function toIpcReply(r: PlockReply): IpcReply {
  if (r.error) return { code: IPC_CODE[r.error.code], text: plockErrorText(r.error.code, r.error.detail) };
  switch (r.kind) {
    case 'test':
      return { code: ErrorCode.OK, payload: encodeTestReply(r.holder) };
    case 'cancel':
      return { code: ErrorCode.OK, payload: encodeCancelReply(r.cancelled ?? false) };
    case 'list':
      return { code: ErrorCode.OK, payload: encodeListReply(r.holders ?? []) };
    default:
      return { code: ErrorCode.OK, payload: EMPTY };
  }
}
