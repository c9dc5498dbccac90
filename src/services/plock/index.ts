export { conflicts, LockTable, sameOwner } from './lock-table.js';
export {
  MAX_OUTBOX,
  MAX_RECORDS_PER_RESOURCE,
  PLOCK_CKPT_CLIENT,
  PLOCK_GROUP,
  PLOCK_SERVICE_NAME,
  PlockService,
  type PlockServiceOptions,
  type PlockServiceStats,
} from './plock-service.js';
export * from './types.js';
export { checkpointName, parseSectionName, sectionName } from './wire.js';
