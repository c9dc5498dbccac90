export {
  CKPT_GROUP,
  CKPT_SERVICE_NAME,
  CkptService,
  type CkptServiceOptions,
  type CkptServiceStats,
  MAX_NAME_BYTES,
} from './ckpt-service.js';
export { type Checkpoint, CkptDatabase, type Section } from './database.js';
export {
  AisError,
  type AisErrorCode,
  type AisErrorName,
  aisErrorName,
  CKPT_SYNC_ERROR_CODES,
  CkptError,
  type CkptSyncErrorCode,
  CkptSyncProtocolError,
} from './errors.js';
export * from './types.js';
