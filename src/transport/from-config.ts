/** Building the transport's pieces from a loaded TotemConfig. */
import type { TotemConfig } from '../config/types.js';
import type { NodeId } from '../core/io.js';
import { Envelope } from './crypto.js';
import { readKeyFile } from './key-file.js';
import type { TransportOptions } from './udp-transport.js';

/**
 * The envelope this node uses: plain for `crypto_cipher: none`, otherwise sealed with the
 * key file named by totem.keyfile. Only configured node ids are accepted as senders.
 */
export async function envelopeFromConfig(
  config: TotemConfig,
  localNodeId: NodeId,
): Promise<{ envelope: Envelope; warnings: readonly string[] }> {
  const ids = new Set(config.nodelist.map((n) => n.nodeId));
  const acceptSender = (id: NodeId): boolean => ids.has(id);
  const cipher = config.totem.cryptoCipher;
  if (cipher === 'none') return { envelope: Envelope.plain(localNodeId, acceptSender), warnings: [] };
  const { key, warnings } = await readKeyFile(config.totem.keyfile);
  const envelope = Envelope.sealed({
    cipher,
    key,
    clusterName: config.totem.clusterName,
    localNodeId,
    acceptSender,
  });
  return { envelope, warnings };
}

/** Transport options for this node; the caller adds onPacket, and a recorder if it has one. */
export function transportOptionsFromConfig(
  config: TotemConfig,
  localNodeId: NodeId,
  envelope: Envelope,
  onPacket: TransportOptions['onPacket'],
): TransportOptions {
  const t = config.totem;
  return {
    mode: t.transport,
    localNodeId,
    nodes: config.nodelist.map((n) => ({ nodeId: n.nodeId, address: n.ring0Addr, port: n.port })),
    multicast: t.transport === 'udp' ? { group: t.mcastaddr, port: t.mcastport, ttl: t.ttl } : undefined,
    envelope,
    onPacket,
    sendBuffer: config.runtime.sendBuffer,
    recvBuffer: config.runtime.recvBuffer,
    netmtu: t.netmtu,
  };
}
