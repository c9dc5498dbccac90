/** Which entry of the node list is this process. */
import { networkInterfaces } from 'node:os';
import { ConfigError } from './config-error.js';
import type { NodeConfig, TotemConfig } from './types.js';
import { canonicalIp } from './values.js';

export interface LocalNodeOptions {
  /** Chosen explicitly (`--nodeid`); required when several entries share this host's addresses. */
  readonly nodeId?: number;
  /** This host's addresses; by default those of os.networkInterfaces(). */
  readonly localAddresses?: readonly string[];
}

/** Finds this node's entry; throws ConfigError (naming the file) when it is missing or ambiguous. */
export function findLocalNode(config: TotemConfig, opts: LocalNodeOptions = {}): NodeConfig {
  const nodes = config.nodelist;
  if (opts.nodeId !== undefined) {
    const found = nodes.find((n) => n.nodeId === opts.nodeId);
    if (!found) {
      const ids = nodes.map((n) => n.nodeId).join(', ');
      throw new ConfigError(
        config.file,
        0,
        'nodelist',
        `node id ${opts.nodeId} is not in the node list (configured: ${ids})`,
      );
    }
    return found;
  }
  const local = new Set((opts.localAddresses ?? hostAddresses()).map(canonical));
  const matches = nodes.filter((n) => local.has(n.ring0Addr));
  if (matches.length === 1) return matches[0]!;
  if (matches.length === 0) {
    throw new ConfigError(
      config.file,
      0,
      'nodelist',
      `no node's ring0_addr is an address of this host (this host has ${[...local].join(', ') || 'no addresses'}); choose one with --nodeid`,
    );
  }
  const which = matches.map((n) => `${n.nodeId} (line ${n.line})`).join(', ');
  throw new ConfigError(
    config.file,
    0,
    'nodelist',
    `several nodes have addresses of this host: ${which}; choose one with --nodeid`,
  );
}

function hostAddresses(): string[] {
  return Object.values(networkInterfaces())
    .flatMap((list) => list ?? [])
    .map((i) => i.address);
}

function canonical(address: string): string {
  return address.includes(':') ? canonicalIp(address, 6) : address;
}
