/**
 * Binds the sans-IO cpg service to the IPC server: decodes requests, calls the service,
 * encodes its events for each client. Register it with `ipcServer.register(...)`.
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

  constructor(private readonly cpg: CpgService) {}

  connected(client: IpcClient): void {
    this.cpg.connect({ id: client.id, pid: client.pid, sink: new ClientSink(client) });
  }

  disconnected(client: IpcClient): void {
    this.cpg.disconnect(client.id);
  }

  request(client: IpcClient, op: number, payload: Uint8Array): IpcReply {
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
        return status(this.cpg.mcast(client.id, m.group, m.data, m.guarantee));
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
}

function status(code: ErrorCode): IpcReply {
  return code === ErrorCode.OK ? { code, payload: EMPTY } : { code, text: `cpg request refused` };
}
