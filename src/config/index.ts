export { ConfigError, type ConfigWarning } from './config-error.js';
export { CONFIG_DEFAULTS, defaultMcastAddr, loadConfigFile, parseConfig } from './load.js';
export { findLocalNode, type LocalNodeOptions } from './local-node.js';
export {
  MINIMUM_TIMEOUT_MS,
  resolveTimings,
  TIMING_DEFAULTS,
  type TimingInput,
  type TimingProblem,
  timingProblems,
} from './timings.js';
export type * from './types.js';
