export {
  ControlError,
  type ControlHandler,
  type ControlRequest,
  type ControlResponse,
  ControlServer,
  controlRequest,
} from './control.js';
export { LOAD_GROUP, LoadGroup, type LoadStatus } from './load-group.js';
export { LOG_LEVELS, Logger, type LogLevel } from './logger.js';
export { NodeRuntime, type NodeRuntimeOptions, type NodeStatus } from './node-runtime.js';
export { type NodePaths, nodePaths } from './paths.js';
export { RingSeqStore, RingSeqStoreError } from './ring-seq-store.js';
export { srpConfigFromTotem } from './srp-config.js';
