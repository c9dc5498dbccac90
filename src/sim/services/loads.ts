/**
 * The loads the `services` core can run, by name (`totem sim --core services --load NAME`).
 * The first is the default. See load.ts for what a load is and how to add one.
 */

import { CkptInvariants, type PlantedFault } from './ckpt-invariants.js';
import { type CkptLoadOptions, ckptLoadParts } from './ckpt-load.js';
import type { ServiceLoad } from './load.js';

export interface CkptLoadSetup extends CkptLoadOptions {
  /** Test-only: changes a replica just before the checks look at it (proves they can fail). */
  readonly plant?: PlantedFault;
}

export function ckptLoad(setup: CkptLoadSetup = {}): ServiceLoad {
  return {
    name: 'ckpt',
    summary: 'checkpoint clients: private single-writer checkpoints and shared ones with every operation',
    ...ckptLoadParts(setup),
    makeInvariants: (fail) => new CkptInvariants(fail, setup.plant),
  };
}

export const LOADS: ReadonlyMap<string, () => ServiceLoad> = new Map([['ckpt', () => ckptLoad()]]);

export function loadByName(name: string): ServiceLoad | undefined {
  return LOADS.get(name)?.();
}
