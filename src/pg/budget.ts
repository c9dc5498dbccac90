/**
 * The default frame budget: how many bytes one pg frame may take so that the whole datagram
 * still fits an Ethernet MTU without IP fragmentation.
 *
 *   1500  Ethernet MTU
 *   − 40  IP header (IPv6; IPv4 needs only 20, the spare 20 bytes are kept for simplicity)
 *   −  8  UDP header
 *   − 32  crypto overhead (12-byte nonce + 16-byte tag + 4-byte key/epoch id)
 *   − 96  two srp mcast headers (one for the message, one for the recovery encapsulation
 *         that re-multicasts old-ring messages inside new-ring ones), 48 bytes each at most
 *   ─────
 *   1324  bytes for the pg frame (its own 8-byte header and chunk headers included)
 *
 * The ordering layer states the real limit as OrderedChannel.maxPayload; pg uses the smaller
 * of that and its configured frame size, so a channel with larger headers shrinks frames
 * automatically.
 */

export const ETHERNET_MTU = 1500;
export const IP_HEADER_BYTES = 40;
export const UDP_HEADER_BYTES = 8;
export const CRYPTO_OVERHEAD_BYTES = 32;
export const SRP_MCAST_HEADER_BUDGET = 48;

export const DEFAULT_FRAME_SIZE =
  ETHERNET_MTU - IP_HEADER_BYTES - UDP_HEADER_BYTES - CRYPTO_OVERHEAD_BYTES - 2 * SRP_MCAST_HEADER_BUDGET;

/** Default largest application message (bytes). */
export const DEFAULT_MAX_MESSAGE_SIZE = 1024 * 1024;

/** Default bound on chunks packed in one frame before it is closed without waiting for the token. */
export const DEFAULT_MAX_PACKED_CHUNKS = 64;
