export { MAGIC, totemCodec, VERSION } from './codec.js';
export {
  corosyncDefaults,
  resolveSrpConfig,
  type SrpConfig,
  SrpConfigError,
  whitetankDefaults,
} from './config.js';
export * from './messages.js';
export { seqAdd, seqDiff, seqGt, seqGte, seqLt, seqLte } from './seq.js';
export {
  RangeViolation,
  SrpInvariantError,
  SrpNode,
  type SrpNodeOptions,
  type SrpState,
} from './srp-node.js';
export { DROP_REASON_NAMES, DropReason, type SrpStats } from './stats.js';
export { SrpTimer } from './timers.js';
