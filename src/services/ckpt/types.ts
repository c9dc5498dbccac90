/** The checkpoint service's public types: requests, replies, attributes. Times are ms. */

import type { CkptError } from './errors.js';

/** A client of this node (the IPC layer maps connections to ids). */
export type ClientId = number;
/** A checkpoint handle, local to this node. */
export type CkptHandle = number;
/** A section iteration handle, local to this node. */
export type IterationHandle = number;
/** Cluster-wide identity of one checkpoint incarnation ("origin.incarnation.seq"). */
export type CkptId = string;

/** "Never" for expiration times and retention durations. */
export const TIME_END = Number.POSITIVE_INFINITY;

export const OpenFlags = { Read: 0x1, Write: 0x2, Create: 0x4 } as const;
export const OPEN_FLAGS_ALL = 0x7;

export const CreationFlags = {
  WrAllReplicas: 0x1,
  WrActiveReplica: 0x2,
  WrActiveReplicaWeak: 0x4,
  Collocated: 0x8,
} as const;
export const CREATION_FLAGS_ALL = 0xf;

export interface CreationAttributes {
  /** Exactly one of WrAllReplicas (synchronous), WrActiveReplica, WrActiveReplicaWeak; maybe Collocated. */
  readonly creationFlags: number;
  /** Largest total section data (bytes). */
  readonly checkpointSize: number;
  /** How long an unreferenced checkpoint survives (ms; TIME_END: forever). */
  readonly retentionDuration: number;
  readonly maxSections: number;
  readonly maxSectionSize: number;
  readonly maxSectionIdSize: number;
}

export const SectionsChosen = {
  Forever: 1,
  LeqExpirationTime: 2,
  GeqExpirationTime: 3,
  Corrupted: 4,
  Any: 5,
} as const;
export type SectionsChosen = (typeof SectionsChosen)[keyof typeof SectionsChosen];

export interface WriteElement {
  readonly sectionId: Uint8Array;
  readonly offset: number;
  readonly data: Uint8Array;
}

export interface ReadElement {
  readonly sectionId: Uint8Array;
  readonly offset: number;
  /** Bytes wanted; fewer come back when the section ends first. */
  readonly size: number;
}

export interface SectionDescriptor {
  readonly sectionId: Uint8Array;
  readonly expirationTime: number;
  readonly sectionSize: number;
  /** Always VALID (1): replicas are never corrupted. */
  readonly sectionState: 1;
  readonly lastUpdate: number;
}

export interface CheckpointStatus {
  readonly attributes: CreationAttributes;
  readonly numberOfSections: number;
  readonly memoryUsed: number;
}

/** A client request; `reqId` is the client's own invocation id, echoed in the reply. */
export type CkptRequest =
  | { kind: 'open'; reqId: number; name: string; flags: number; attributes?: CreationAttributes }
  | { kind: 'close'; reqId: number; handle: CkptHandle }
  | { kind: 'unlink'; reqId: number; name: string }
  | { kind: 'retentionDurationSet'; reqId: number; handle: CkptHandle; duration: number }
  | {
      kind: 'sectionCreate';
      reqId: number;
      handle: CkptHandle;
      /** Omitted: the service generates an id. */
      sectionId?: Uint8Array;
      expirationTime: number;
      initialData: Uint8Array;
    }
  | { kind: 'sectionDelete'; reqId: number; handle: CkptHandle; sectionId: Uint8Array }
  | { kind: 'write'; reqId: number; handle: CkptHandle; elements: readonly WriteElement[] }
  | { kind: 'overwrite'; reqId: number; handle: CkptHandle; sectionId: Uint8Array; data: Uint8Array }
  | { kind: 'read'; reqId: number; handle: CkptHandle; elements: readonly ReadElement[] }
  | {
      kind: 'expirationTimeSet';
      reqId: number;
      handle: CkptHandle;
      sectionId: Uint8Array;
      expirationTime: number;
    }
  | {
      kind: 'iterationInitialize';
      reqId: number;
      handle: CkptHandle;
      sectionsChosen: SectionsChosen;
      expirationTime: number;
    }
  | { kind: 'iterationNext'; reqId: number; iteration: IterationHandle }
  | { kind: 'iterationFinalize'; reqId: number; iteration: IterationHandle }
  | { kind: 'status'; reqId: number; handle: CkptHandle }
  | { kind: 'synchronize'; reqId: number; handle: CkptHandle };

export type CkptRequestKind = CkptRequest['kind'];

/** The answer to one request. `error` absent means SA_AIS_OK. */
export interface CkptReply {
  readonly client: ClientId;
  readonly reqId: number;
  readonly kind: CkptRequestKind;
  readonly error?: CkptError;
  /** open */
  readonly handle?: CkptHandle;
  /** sectionCreate (the id, generated or given) */
  readonly sectionId?: Uint8Array;
  /** read: one buffer per element, in order */
  readonly data?: Uint8Array[];
  /** write/read failure: the index of the element that failed */
  readonly errorIndex?: number;
  readonly status?: CheckpointStatus;
  readonly iteration?: IterationHandle;
  readonly descriptor?: SectionDescriptor;
}
