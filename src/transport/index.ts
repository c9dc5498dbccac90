export {
  type CipherName,
  ENVELOPE_REJECTS,
  Envelope,
  EnvelopeError,
  type EnvelopeReject,
  type Opened,
} from './crypto.js';
export { envelopeFromConfig, transportOptionsFromConfig } from './from-config.js';
export { KeyFileError, readKeyFile, writeKeyFile } from './key-file.js';
export { Partition } from './partition.js';
export {
  type DropReason,
  type MulticastOptions,
  type PacketFilter,
  TransportError,
  type TransportMode,
  type TransportOptions,
  type TransportPeer,
  type TransportStats,
  UdpTransport,
} from './udp-transport.js';
