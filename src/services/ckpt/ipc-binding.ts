/**
 * Binds the sans-IO checkpoint service to the IPC server: decodes requests, hands them to the
 * service with a binding-assigned reqId, and answers each with the service's one reply. The
 * service's replies must be routed here (its `onReply` calls `binding.reply`):
 *
 *   let binding: CkptIpcService | undefined;
 *   const ckpt = new CkptService({ ..., onReply: (r) => binding?.reply(r) });
 *   binding = new CkptIpcService(ckpt, { clock });
 *   ipcServer.register(binding);
 *
 * AIS errors become the nearest IPC error code, with the exact AIS name (and the failing
 * element of a write/read) at the start of the reply text (ipc-protocol.ts, aisErrorText).
 */
import { ErrorCode } from '../../ipc/errors.js';
import type { IpcClient, IpcReply, IpcService } from '../../ipc/service.js';
import type { CkptService } from './ckpt-service.js';
import { totalRefs } from './database.js';
import type { AisErrorName } from './errors.js';
import {
  aisErrorText,
  type CheckpointSummary,
  CKPT_SERVICE_ID,
  decodeRequest,
  encodeDescriptorReply,
  encodeHandleReply,
  encodeListReply,
  encodeReadReply,
  encodeSectionIdReply,
  encodeStatusReply,
} from './ipc-protocol.js';
import type { CkptReply, CkptRequest } from './types.js';

export interface CkptIpcOptions {
  /**
   * The driver's clock (ms), passed to the service with every request: the same clock the
   * driver uses for `ckpt.tick`, since expiration times are compared with it.
   */
  readonly clock: () => number;
}

/** The IPC code a client sees for each AIS code (the AIS name travels in the text). */
const IPC_CODE: Partial<Record<AisErrorName, ErrorCode>> = {
  TRY_AGAIN: ErrorCode.TRY_AGAIN,
  INVALID_PARAM: ErrorCode.INVALID_PARAM,
  NOT_EXIST: ErrorCode.NOT_EXIST,
  EXIST: ErrorCode.EXIST,
  BAD_HANDLE: ErrorCode.BAD_HANDLE,
  ACCESS: ErrorCode.ACCESS,
  NO_MEMORY: ErrorCode.NO_MEMORY,
  BUSY: ErrorCode.BUSY,
  NAME_TOO_LONG: ErrorCode.NAME_TOO_LONG,
  TOO_BIG: ErrorCode.TOO_BIG,
  NOT_SUPPORTED: ErrorCode.NOT_SUPPORTED,
  // No IPC equivalent: the nearest meaning.
  NO_SPACE: ErrorCode.NO_MEMORY,
  BAD_FLAGS: ErrorCode.INVALID_PARAM,
  BAD_OPERATION: ErrorCode.NOT_SUPPORTED,
  NO_SECTIONS: ErrorCode.NOT_EXIST,
};

export function ipcCodeOf(aisName: AisErrorName): ErrorCode {
  return IPC_CODE[aisName] ?? ErrorCode.LIBRARY;
}

interface Waiting {
  readonly client: number;
  readonly answer: (reply: IpcReply) => void;
}

const EMPTY = new Uint8Array(0);

export class CkptIpcService implements IpcService {
  readonly id = CKPT_SERVICE_ID;
  readonly name = 'ckpt';
  private readonly waiting = new Map<number, Waiting>();
  private nextReqId = 1;
  private readonly clock: () => number;

  constructor(
    private readonly ckpt: CkptService,
    opts: CkptIpcOptions,
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
    // Throws DecodeError on a malformed payload; the server answers PROTOCOL.
    const req = decodeRequest(op, payload);
    if (req.kind === 'list') return { code: ErrorCode.OK, payload: encodeListReply(this.list()) };
    const reqId = this.nextReqId;
    this.nextReqId = this.nextReqId >= 0x7fffffff ? 1 : this.nextReqId + 1;
    this.waiting.set(reqId, { client: client.id, answer });
    // Copies: the payload view is valid only during this call, and updates wait for the ring.
    this.ckpt.request(client.id, copyRequest({ ...req, reqId } as CkptRequest), this.clock());
    return undefined;
  }

  disconnected(client: IpcClient): void {
    for (const [reqId, w] of this.waiting) if (w.client === client.id) this.waiting.delete(reqId);
    this.ckpt.clientGone(client.id, this.clock());
  }

  /** The service's reply to a request made through this binding (wire it to `onReply`). */
  reply(r: CkptReply): void {
    const w = this.waiting.get(r.reqId);
    if (!w || w.client !== r.client) return;
    this.waiting.delete(r.reqId);
    w.answer(toIpcReply(r));
  }

  private list(): CheckpointSummary[] {
    const out: CheckpointSummary[] = [];
    for (const c of this.ckpt.database.linked.values()) {
      out.push({
        name: c.name,
        numberOfSections: c.sections.size,
        memoryUsed: c.used,
        openHandles: totalRefs(c),
      });
    }
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }
}

function toIpcReply(r: CkptReply): IpcReply {
  if (r.error) {
    return {
      code: ipcCodeOf(r.error.aisName),
      text: aisErrorText(r.error.aisName, r.errorIndex, r.error.detail),
    };
  }
  switch (r.kind) {
    case 'open':
      return ok(encodeHandleReply(r.handle!));
    case 'sectionCreate':
      return ok(encodeSectionIdReply(r.sectionId!));
    case 'read':
      return ok(encodeReadReply(r.data!));
    case 'iterationInitialize':
      return ok(encodeHandleReply(r.iteration!));
    case 'iterationNext':
      return ok(encodeDescriptorReply(r.descriptor!));
    case 'status':
      return ok(encodeStatusReply(r.status!));
    default:
      return ok(EMPTY);
  }
}

function ok(payload: Uint8Array): IpcReply {
  return { code: ErrorCode.OK, payload };
}

function copyRequest(req: CkptRequest): CkptRequest {
  switch (req.kind) {
    case 'sectionCreate':
      return {
        ...req,
        initialData: req.initialData.slice(),
        ...(req.sectionId ? { sectionId: req.sectionId.slice() } : {}),
      };
    case 'sectionDelete':
    case 'expirationTimeSet':
      return { ...req, sectionId: req.sectionId.slice() };
    case 'overwrite':
      return { ...req, sectionId: req.sectionId.slice(), data: req.data.slice() };
    case 'write':
      return {
        ...req,
        elements: req.elements.map((e) => ({ ...e, sectionId: e.sectionId.slice(), data: e.data.slice() })),
      };
    case 'read':
      return { ...req, elements: req.elements.map((e) => ({ ...e, sectionId: e.sectionId.slice() })) };
    default:
      return req;
  }
}
