/**
 * The ordering cores the `totem sim` command can drive, by name. The first is the default.
 */
import { makeServicesCore } from './services/services-core.js';
import type { CoreMaker } from './sim-core.js';
import { makeSrpCore } from './srp-core.js';
import { makeSrpPgCore } from './srp-pg-core.js';

export const CORES: ReadonlyMap<string, CoreMaker> = new Map<string, CoreMaker>([
  ['srp', makeSrpCore],
  ['srp-pg', makeSrpPgCore],
  ['services', makeServicesCore],
]);
