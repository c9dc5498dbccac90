/**
 * Binds the sans-IO cpg service to the IPC server: decodes requests, calls the service,
 * encodes its events for each client. Register it with `ipcServer.register(...)`.
 *
 * Flow control for multicasts: when the send queue is full, a request flagged WAIT (the
 * client library sets it unless the caller turned retries off) is held here (its reply withheld) and retried at every pump of the service, i.e. as soon as the ring has
 * taken messages off the queue; the client's send() simply takes longer. Without it the
 * client would poll with TRY_AGAIN and back off (1, 2, 4 … ms): CPU on both sides for every
 * retry, and a queue that may run dry while the client sleeps. Held sends go out in arrival
 * order (a client's sends keep their order). TRY_AGAIN remains the answer during a sync
 * round and once the held sends pass their bounds (count, bytes).
 */
import { Guarantee, type NodeId, type RingId } from '../../core/io.js';
import { ErrorCode } from '../../ipc/errors.js';
import type { IpcClient, IpcReply, IpcService } from '../../ipc/service.js';
import type { CpgEventSink, CpgMember, CpgService } from './cpg-service.js';
import {
  CpgEvent,
  CpgOp,
  decodeEmptyRequest,
  decodeGroupRequest,
  decodeMcastRequest,
  encodeConfchgEvent,
  encodeDeliverEvent,
  encodeGroupsReply,
  encodeLocalReply,
  encodeMembers,
  encodeTotemEvent,
} from './ipc-protocol.js';
import { CPG_SERVICE_ID } from './limits.js';

const EMPTY = new Uint8Array(0);
/** Sends held for want of room, at most (beyond: TRY_AGAIN at once). */
export const DEFAULT_MAX_HELD_SENDS = 4096;
export const DEFAULT_MAX_HELD_BYTES = 16 * 1024 * 1024;

export interface CpgIpcLimits {
  readonly maxHeldSends?: number;
  readonly maxHeldBytes?: number;
}

interface HeldSend {
  readonly client: number;
  readonly group: Uint8Array;
  readonly data: Uint8Array;
  readonly guarantee: Guarantee;
  readonly answer: (reply: IpcReply) => void;
}

class ClientSink implements CpgEventSink {
  constructor(private readonly client: IpcClient) {}

  deliver(group: Uint8Array, nodeId: NodeId, pid: number, guarantee: Guarantee, data: Uint8Array): void {
    this.client.push(
      CPG_SERVICE_ID,
      CpgEvent.Deliver,
      encodeDeliverEvent({ group, nodeId, pid, guarantee, data }),
    );
  }

  confchg(
    group: Uint8Array,
    members: readonly CpgMember[],
    left: readonly CpgMember[],
    joined: readonly CpgMember[],
  ): void {
    this.client.push(CPG_SERVICE_ID, CpgEvent.Confchg, encodeConfchgEvent({ group, members, left, joined }));
  }

  totemConfchg(ringId: RingId, members: readonly NodeId[]): void {
    this.client.push(CPG_SERVICE_ID, CpgEvent.Totem, encodeTotemEvent({ ringId, members }));
  }
}

export class CpgIpcService implements IpcService {
  readonly id = CPG_SERVICE_ID;
  readonly name = 'cpg';

  private readonly held: HeldSend[] = [];
  private heldBytes = 0;
  private readonly maxHeldSends: number;
  private readonly maxHeldBytes: number;

  constructor(
    private readonly cpg: CpgService,
    limits: CpgIpcLimits = {},
  ) {
    this.maxHeldSends = limits.maxHeldSends ?? DEFAULT_MAX_HELD_SENDS;
    this.maxHeldBytes = limits.maxHeldBytes ?? DEFAULT_MAX_HELD_BYTES;
    cpg.onPump(() => this.retryHeld());
  }

  /** Multicasts held until the send queue has room. */
  get heldSends(): number {
    return this.held.length;
  }

  connected(client: IpcClient): void {
    this.cpg.connect({ id: client.id, pid: client.pid, sink: new ClientSink(client) });
  }

  disconnected(client: IpcClient): void {
    // Its held sends go before the service forgets it (disconnect pumps, which retries them).
    if (this.held.some((h) => h.client === client.id)) {
      const keep = this.held.filter((h) => h.client !== client.id);
      this.held.length = 0;
      this.held.push(...keep);
      this.heldBytes = keep.reduce((n, h) => n + h.data.length, 0);
    }
    this.cpg.disconnect(client.id);
  }

  request(
    client: IpcClient,
    op: number,
    payload: Uint8Array,
    answer: (reply: IpcReply) => void,
  ): IpcReply | undefined {
    switch (op) {
      case CpgOp.Join:
        return status(this.cpg.join(client.id, decodeGroupRequest(payload)));
      case CpgOp.Leave:
        return status(this.cpg.leave(client.id, decodeGroupRequest(payload)));
      case CpgOp.Mcast: {
        const m = decodeMcastRequest(payload);
        if (m.guarantee !== Guarantee.Agreed && m.guarantee !== Guarantee.Safe) {
          return { code: ErrorCode.INVALID_PARAM, text: `unknown guarantee ${m.guarantee}` };
        }
        return this.mcast(client.id, m.group, m.data, m.guarantee, m.waitForRoom ? answer : undefined);
      }
      case CpgOp.Members:
        return { code: ErrorCode.OK, payload: encodeMembers(this.cpg.members(decodeGroupRequest(payload))) };
      case CpgOp.Groups:
        decodeEmptyRequest(payload);
        return { code: ErrorCode.OK, payload: encodeGroupsReply(this.cpg.groups()) };
      case CpgOp.Local:
        decodeEmptyRequest(payload);
        return {
          code: ErrorCode.OK,
          payload: encodeLocalReply({ nodeId: this.cpg.nodeId, ring: this.cpg.totemConfiguration }),
        };
      default:
        return { code: ErrorCode.PROTOCOL, text: `unknown cpg request ${op}` };
    }
  }

  private mcast(
    client: number,
    group: Uint8Array,
    data: Uint8Array,
    guarantee: Guarantee,
    answer: ((reply: IpcReply) => void) | undefined,
  ): IpcReply | undefined {
    // Behind held sends, a send waits its turn (order per client, fairness between them).
    const code =
      this.held.length > 0 && !this.cpg.syncInProgress
        ? ErrorCode.TRY_AGAIN
        : this.cpg.mcast(client, group, data, guarantee);
    if (
      answer === undefined ||
      code !== ErrorCode.TRY_AGAIN ||
      this.cpg.syncInProgress ||
      this.held.length >= this.maxHeldSends ||
      this.heldBytes + data.length > this.maxHeldBytes
    ) {
      return status(code);
    }
    // The payload is a view into the connection's input: keep a copy.
    this.held.push({ client, group: group.slice(), data: data.slice(), guarantee, answer });
    this.heldBytes += data.length;
    return undefined;
  }

  private retryHeld(): void {
    if (this.held.length === 0) return;
    const syncing = this.cpg.syncInProgress;
    let done = 0;
    while (done < this.held.length) {
      const h = this.held[done]!;
      // A sync round may last: the client's own back-off is the better wait then.
      const code = syncing ? ErrorCode.TRY_AGAIN : this.cpg.mcast(h.client, h.group, h.data, h.guarantee);
      if (code === ErrorCode.TRY_AGAIN && !syncing) break;
      done++;
      this.heldBytes -= h.data.length;
      h.answer(status(code));
    }
    this.held.splice(0, done);
  }
}

function status(code: ErrorCode): IpcReply {
  return code === ErrorCode.OK ? { code, payload: EMPTY } : { code, text: `cpg request refused` };
}
