export * from './client/index.js';
export { type Configuration, Guarantee, type NodeId, type RingId } from './core/io.js';
export { check, InvariantError } from './recorder/assert.js';
export { EV } from './recorder/events/index.js';
export {
  installRecorderHooks,
  openProcessRing,
  type ProcessRing,
  type ProcessRingOptions,
} from './recorder/process-ring.js';
export { Recorder, type RecorderOptions } from './recorder/recorder.js';
