export {
  DEFAULT_SYNC_GROUP,
  type RoundOutcome,
  SyncEngine,
  type SyncEngineOptions,
  type SyncEngineStats,
  type SyncStatus,
  syncOrderedListener,
} from './sync-engine.js';
export { decodeSyncMessage, encodeSyncMessage, type SyncMessage, SyncMsgType } from './wire.js';
