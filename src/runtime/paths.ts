/** Where a node's files live, from its configuration (one place, shared by daemon and tools). */
import { join } from 'node:path';
import type { TotemConfig } from '../config/types.js';
import type { NodeId } from '../core/io.js';

export interface NodePaths {
  /** The control socket (unix domain, mode 0600, in the 0700 run dir). */
  readonly socket: string;
  readonly pidFile: string;
  /** Flight-recorder rings: fr-<node>-<pid>.ring while alive, fdata-* after. */
  readonly ringDir: string;
  readonly stateDir: string;
  readonly runDir: string;
}

export function nodePaths(config: TotemConfig, nodeId: NodeId): NodePaths {
  const { stateDir, runDir } = config.runtime;
  return {
    socket: join(runDir, `totem-${nodeId}.sock`),
    pidFile: join(runDir, `totem-${nodeId}.pid`),
    ringDir: join(stateDir, 'rings'),
    stateDir,
    runDir,
  };
}
