export * from './client/index.js';
export { type Configuration, Guarantee, type NodeId, type RingId } from './core/io.js';
export { EV } from './recorder/events/index.js';
export { Recorder, type RecorderOptions } from './recorder/recorder.js';
