/** TotemConfig timings → SrpConfig: the one place the daemon's protocol constants come from. */
import type { TotemConfig } from '../config/types.js';
import { resolveSrpConfig, type SrpConfig, whitetankDefaults } from '../srp/config.js';

/** IP + UDP header bytes srp's own payload budget already subtracts from netMtu. */
const SRP_ASSUMED_IP_UDP = 28;

/**
 * The SRP constants for this node. `transportMaxPayload` is the largest payload the
 * transport sends without IP fragmentation (its envelope and headers removed); srp is told
 * the MTU that leaves exactly that room, so its own frames never fragment.
 */
export function srpConfigFromTotem(config: TotemConfig, transportMaxPayload: number): SrpConfig {
  const t = config.totem;
  return resolveSrpConfig({
    token: t.token,
    tokenRetransmit: t.tokenRetransmit,
    hold: t.hold,
    join: t.join,
    consensus: t.consensus,
    merge: t.merge,
    failRecvConst: t.failRecvConst,
    seqnoUnchangedConst: t.seqnoUnchangedConst,
    missCountConst: t.missCountConst,
    windowSize: t.windowSize,
    maxMessages: t.maxMessages,
    queueSize: Math.max(whitetankDefaults.queueSize, 4 * t.windowSize),
    netMtu: transportMaxPayload + SRP_ASSUMED_IP_UDP,
  });
}
