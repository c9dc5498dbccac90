/**
 * The typed configuration, as the daemon, the simulator and the tools use it.
 * Field names are the corosync.conf keys in camelCase; docs/config.md is the reference.
 */
import type { NodeId } from '../core/io.js';
import type { ConfigWarning } from './config-error.js';

export type TransportMode = 'udpu' | 'udp';
export type CipherName = 'aes256' | 'chacha20' | 'none';
export type HashName = 'none' | 'md5' | 'sha1' | 'sha256' | 'sha384' | 'sha512';
export type IpVersion = 'ipv4' | 'ipv6';

/** Protocol timeouts (ms) and constants, after defaults and the token_coefficient rule. */
export interface TotemTimings {
  /** The token timeout in use: the configured base plus the token_coefficient share. */
  readonly token: number;
  /** `token` as written (or its default), before token_coefficient. */
  readonly tokenBase: number;
  readonly tokenCoefficient: number;
  readonly tokenRetransmit: number;
  readonly tokenRetransmitsBeforeLossConst: number;
  readonly hold: number;
  readonly join: number;
  readonly sendJoin: number;
  readonly consensus: number;
  readonly merge: number;
  readonly downcheck: number;
  readonly failRecvConst: number;
  readonly seqnoUnchangedConst: number;
  readonly missCountConst: number;
  readonly maxNetworkDelay: number;
  readonly windowSize: number;
  readonly maxMessages: number;
}

export interface TotemSection extends TotemTimings {
  readonly version: 2;
  readonly clusterName: string;
  readonly transport: TransportMode;
  readonly cryptoCipher: CipherName;
  readonly cryptoHash: HashName;
  readonly netmtu: number;
  readonly keyfile: string;
  readonly ipVersion: IpVersion;
  /** Multicast group (transport udp); generated from cluster_name when not written. */
  readonly mcastaddr: string;
  readonly mcastport: number;
  /** Multicast TTL (transport udp). */
  readonly ttl: number;
}

export interface NodeConfig {
  readonly nodeId: NodeId;
  /** Canonical text of the ring0 address (IPv6 compressed, lower case). */
  readonly ring0Addr: string;
  /** UDP port this node listens on: `ring0_port` if written, else totem.mcastport. */
  readonly port: number;
  readonly name: string;
  /** Line of the `node {` in the file, for messages about this node later on. */
  readonly line: number;
}

export type DebugLevel = 'off' | 'on' | 'trace';
export type TimestampMode = 'off' | 'on' | 'hires';

export interface LoggerSubsys {
  readonly subsys: string;
  readonly debug: DebugLevel;
}

export interface LoggingConfig {
  readonly toStderr: boolean;
  readonly toLogfile: boolean;
  /** Set whenever toLogfile is true. */
  readonly logfile: string | undefined;
  readonly debug: DebugLevel;
  readonly timestamp: TimestampMode;
  readonly loggerSubsys: readonly LoggerSubsys[];
}

/** Our own paths and socket sizes (not corosync keys). */
export interface RuntimeConfig {
  /** Persistent state: ring sequence numbers, recorder rings. */
  readonly stateDir: string;
  /** Volatile state: the IPC socket, the pid file. */
  readonly runDir: string;
  /** SO_SNDBUF / SO_RCVBUF requested for the totem socket(s), bytes. */
  readonly sendBuffer: number;
  readonly recvBuffer: number;
  /** The client IPC socket (default run_dir/totem.sock). */
  readonly ipcSocket: string;
  /** Owner and group given to the IPC socket (default: the daemon's own). */
  readonly ipcUid?: number;
  readonly ipcGid?: number;
}

/** The plock service (ours; gfs_controld's `plock_ownership`). */
export interface PlockConfig {
  /** A node that is the only user of a resource grants its locks without the ring. */
  readonly ownership: boolean;
}

export interface TotemConfig {
  /** The file name as given to the loader (used in every message). */
  readonly file: string;
  readonly totem: TotemSection;
  /** In file order. */
  readonly nodelist: readonly NodeConfig[];
  readonly logging: LoggingConfig;
  readonly runtime: RuntimeConfig;
  /** Absent in configurations built by hand: ownership off. */
  readonly plock?: PlockConfig;
}

export interface LoadedConfig {
  readonly config: TotemConfig;
  readonly warnings: readonly ConfigWarning[];
}
