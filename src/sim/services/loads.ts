/**
 * The loads the `services` core can run, by name (`totem sim --core services --load NAME`).
 * The first is the default. See load.ts for what a load is and how to add one.
 */

import { CkptInvariants, type PlantedFault } from './ckpt-invariants.js';
import { type CkptLoadOptions, ckptLoadParts } from './ckpt-load.js';
import type { ServiceLoad } from './load.js';
import { PlockInvariants } from './plock-invariants.js';
import { PlockSimClient, type PlockSimOptions } from './plock-load.js';

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

export interface PlockLoadSetup extends PlockSimOptions {
  /** The plock service's ownership mode on every node (gfs_controld's plock_ownership). */
  readonly ownership: boolean;
}

export function plockLoad(setup: PlockLoadSetup): ServiceLoad {
  return {
    name: setup.ownership ? 'plock-own' : 'plock',
    summary: `plock clients: owners on every node lock, hold and release random byte ranges (ownership ${setup.ownership ? 'on' : 'off'})`,
    stepMs: setup.stepMs ?? 10,
    plock: { ownership: setup.ownership },
    makeInvariants: (fail, now) => new PlockInvariants(fail, now),
    attach: (node, invariants) => new PlockSimClient(node, invariants as PlockInvariants, setup),
  };
}

export const LOADS: ReadonlyMap<string, () => ServiceLoad> = new Map([
  ['ckpt', () => ckptLoad()],
  ['plock', () => plockLoad({ ownership: false })],
  ['plock-own', () => plockLoad({ ownership: true })],
]);

export function loadByName(name: string): ServiceLoad | undefined {
  return LOADS.get(name)?.();
}
