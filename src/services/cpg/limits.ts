/** Group names are 1..128 bytes, as in corosync (CPG_MAX_NAME_LENGTH). */
export const MAX_CPG_GROUP_BYTES = 128;
/** The pg group every node's cpg service talks through. */
export const CPG_PG_GROUP = 'cpg';
/** The IPC service id (corosync's CPG service id). */
export const CPG_SERVICE_ID = 2;

/** Why a process appears in a configuration change (corosync's values; UNDEFINED for members). */
export const Reason = {
  Undefined: 0,
  Join: 1,
  Leave: 2,
  NodeDown: 3,
  NodeUp: 4,
  ProcDown: 5,
} as const;
export type Reason = (typeof Reason)[keyof typeof Reason];
