/**
 * corosync.conf text → TotemConfig, with every problem reported as file:line: key: detail.
 *
 * Errors are collected over the whole file; the first (in file order) is thrown as a
 * ConfigError whose `errors` lists them all. Anything written that we do not use becomes a
 * warning returned with the result, never silently dropped.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError, type ConfigWarning, warning } from './config-error.js';
import { type ConfItem, type ConfSection, parseSyntax } from './syntax.js';
import { resolveTimings, TIMING_KEYS, type TimingInput, timingProblems } from './timings.js';
import type {
  CipherName,
  DebugLevel,
  HashName,
  IpVersion,
  LoadedConfig,
  LoggerSubsys,
  LoggingConfig,
  NodeConfig,
  PlockConfig,
  RuntimeConfig,
  TimestampMode,
  TotemSection,
  TransportMode,
} from './types.js';
import {
  canonicalIp,
  editDistance,
  type IntOptions,
  type IpAddress,
  ipv4ToU32,
  isMulticast,
  type Reading,
  readAbsolutePath,
  readBool,
  readEnum,
  readInt,
  readIp,
  readPort,
} from './values.js';

export const CONFIG_DEFAULTS = {
  clusterName: 'totem',
  transport: 'udpu' as TransportMode,
  cryptoCipher: 'none' as CipherName,
  cryptoHash: 'none' as HashName,
  netmtu: 1500,
  keyfile: '/etc/totem/authkey',
  mcastport: 5405,
  ttl: 1,
  stateDir: '/var/lib/totem',
  runDir: '/run/totem',
  sendBuffer: 1 << 20,
  recvBuffer: 4 << 20,
} as const;

/** Reads and loads a file; the path as given appears in every message. */
export async function loadConfigFile(path: string): Promise<LoadedConfig> {
  const text = await readFile(path, 'utf8');
  return parseConfig(text, path);
}

/** Loads configuration text. `file` names the source in messages. Throws ConfigError. */
export function parseConfig(text: string, file = 'corosync.conf'): LoadedConfig {
  const ctx = new Context(file);
  const root = parseSyntax(text, file);
  const top = ctx.open(root, '');

  const totemSec = ctx.merged(top, 'totem');
  const nodelistSec = ctx.merged(top, 'nodelist');
  const loggingSec = ctx.merged(top, 'logging');
  const runtimeSec = ctx.merged(top, 'runtime');
  const systemSec = ctx.merged(top, 'system');
  const plockSec = ctx.merged(top, 'plock');
  top.finish({
    sections: {
      quorum: IGNORED_SECTION,
      qb: IGNORED_SECTION,
      resources: IGNORED_SECTION,
      uidgid: IGNORED_SECTION,
      pload: IGNORED_SECTION,
      amf: IGNORED_SECTION,
      aisexec: IGNORED_SECTION,
      service: IGNORED_SECTION,
    },
  });

  const nodesRaw = readNodeList(ctx, nodelistSec);
  const totem = readTotem(ctx, totemSec, nodesRaw);
  const nodelist = finishNodes(ctx, nodesRaw, totem);
  const logging = readLogging(ctx, loggingSec);
  const runtime = readRuntime(ctx, runtimeSec, systemSec);
  const plock = readPlock(plockSec);

  ctx.throwIfErrors();
  return {
    config: { file, totem, nodelist, logging, runtime, plock },
    // Stable sort: file order, and among equal lines the order they were found.
    warnings: [...ctx.warnings].sort((a, b) => a.line - b.line),
  };
}

const IGNORED_SECTION = 'corosync section not used by totem; ignored';
const IGNORED_KEY = 'corosync option not used by totem; ignored';

interface FinishRules {
  /** Keys corosync knows that we accept and ignore, with the warning detail. */
  readonly keys?: Readonly<Record<string, string>>;
  readonly sections?: Readonly<Record<string, string>>;
}

class Context {
  readonly warnings: ConfigWarning[] = [];
  private readonly errors: ConfigError[] = [];

  constructor(readonly file: string) {}

  error(line: number, key: string, detail: string): void {
    this.errors.push(new ConfigError(this.file, line, key, detail));
  }

  warn(line: number, key: string, detail: string): void {
    this.warnings.push(warning(this.file, line, key, detail));
  }

  open(node: ConfSection, path: string): Section {
    return new Section(this, node, path);
  }

  /** The named subsections of `parent`, merged into one (with a warning per repeat); undefined if absent. */
  merged(parent: Section, name: string): Section | undefined {
    const found = parent.subsections(name);
    if (found.length === 0) return undefined;
    const first = found[0]!;
    for (const again of found.slice(1)) {
      this.warn(
        again.line,
        parent.keyOf(name),
        `section appears again (first at line ${first.line}); their contents are merged`,
      );
    }
    const node: ConfSection = {
      kind: 'section',
      name,
      line: first.line,
      children: found.flatMap((s) => s.children),
    };
    return this.open(node, parent.keyOf(name));
  }

  throwIfErrors(): void {
    if (this.errors.length === 0) return;
    const sorted = [...this.errors].sort((a, b) => a.line - b.line);
    const first = sorted[0]!;
    first.errors = sorted;
    throw first;
  }
}

/** One section's items, with use tracking so that whatever is left over becomes a warning. */
class Section {
  private readonly items = new Map<string, ConfItem>();
  private readonly usedKeys = new Set<string>();
  private readonly usedSections = new Set<string>();

  constructor(
    private readonly ctx: Context,
    readonly node: ConfSection,
    readonly path: string,
  ) {
    for (const child of node.children) {
      if (child.kind !== 'item') continue;
      const previous = this.items.get(child.key);
      if (previous) {
        ctx.warn(
          child.line,
          this.keyOf(child.key),
          `set again (first at line ${previous.line}); the last value wins`,
        );
      }
      this.items.set(child.key, child);
    }
  }

  get line(): number {
    return this.node.line;
  }

  keyOf(key: string): string {
    return this.path === '' ? key : `${this.path}.${key}`;
  }

  item(key: string): ConfItem | undefined {
    this.usedKeys.add(key);
    return this.items.get(key);
  }

  subsections(name: string): ConfSection[] {
    this.usedSections.add(name);
    return this.node.children.filter((c): c is ConfSection => c.kind === 'section' && c.name === name);
  }

  /** Reads one key through `reader`; records an error and returns undefined when it does not fit. */
  read<T>(key: string, reader: (text: string) => Reading<T>): T | undefined {
    const it = this.item(key);
    if (!it) return undefined;
    const r = reader(it.value);
    if (!r.ok) {
      this.ctx.error(it.line, this.keyOf(key), r.detail);
      return undefined;
    }
    return r.value;
  }

  int(key: string, opts: IntOptions = {}): number | undefined {
    return this.read(key, (t) => readInt(t, opts));
  }

  /** Warns about every item and subsection that nobody read. */
  finish(rules: FinishRules = {}): void {
    for (const [key, it] of this.items) {
      if (this.usedKeys.has(key)) continue;
      const known = rules.keys?.[key];
      if (known !== undefined) {
        this.ctx.warn(it.line, this.keyOf(key), known);
        continue;
      }
      this.ctx.warn(it.line, this.keyOf(key), `unknown key; ignored${this.hint(key)}`);
    }
    const reportedSections = new Set<string>();
    for (const child of this.node.children) {
      if (child.kind !== 'section' || this.usedSections.has(child.name)) continue;
      if (reportedSections.has(child.name)) continue;
      reportedSections.add(child.name);
      const known = rules.sections?.[child.name];
      this.ctx.warn(child.line, this.keyOf(child.name), known ?? 'unknown section; its contents are ignored');
    }
  }

  private hint(key: string): string {
    let best: string | undefined;
    let bestDistance = 3;
    for (const candidate of this.usedKeys) {
      const d = editDistance(key, candidate);
      if (d < bestDistance) {
        bestDistance = d;
        best = candidate;
      }
    }
    return best === undefined ? '' : ` (did you mean "${best}"?)`;
  }
}

interface RawNode {
  readonly line: number;
  readonly addr: IpAddress | undefined;
  readonly addrLine: number;
  readonly nodeId: number | undefined;
  readonly nodeIdLine: number;
  readonly name: string | undefined;
  readonly port: number | undefined;
}

function readNodeList(ctx: Context, sec: Section | undefined): RawNode[] {
  if (!sec) {
    ctx.error(0, 'nodelist', 'missing; list every node as node { ring0_addr: ADDRESS; nodeid: N }');
    return [];
  }
  const nodes: RawNode[] = [];
  const ringRefusal = 'redundant rings are not supported; ignored';
  const nodeIgnored: Record<string, string> = { quorum_votes: IGNORED_KEY };
  for (let ring = 1; ring <= 7; ring++) nodeIgnored[`ring${ring}_addr`] = ringRefusal;
  for (const raw of sec.subsections('node')) {
    const node = ctx.open(raw, sec.keyOf('node'));
    const addrItem = node.item('ring0_addr');
    const nodeIdItem = node.item('nodeid');
    const addr = node.read('ring0_addr', readIp);
    if (!addrItem) ctx.error(raw.line, node.keyOf('ring0_addr'), 'missing (every node needs its address)');
    const nodeId = node.read('nodeid', (t) => {
      const r = readInt(t);
      if (!r.ok && t === '0') return { ok: false, detail: 'must not be 0 (node id 0 is reserved)' };
      return r;
    });
    const name = node.read('name', (t) =>
      t === '' ? { ok: false, detail: 'must not be empty' } : { ok: true, value: t },
    );
    const port = node.read('ring0_port', readPort);
    node.finish({ keys: nodeIgnored });
    nodes.push({
      line: raw.line,
      addr,
      addrLine: addrItem?.line ?? raw.line,
      nodeId,
      nodeIdLine: nodeIdItem?.line ?? raw.line,
      name,
      port,
    });
  }
  sec.finish();
  if (nodes.length === 0) ctx.error(sec.line, 'nodelist', 'has no node { } entries');
  return nodes;
}

const TOTEM_IGNORED_KEYS = [
  'config_version',
  'secauth',
  'token_warning',
  'heartbeat_failures_allowed',
  'clear_node_high_bit',
  'threads',
  'rrp_mode',
  'link_mode',
  'crypto_model',
  'crypto_type',
  'rrp_problem_count_timeout',
  'rrp_problem_count_threshold',
  'rrp_problem_count_mcast_threshold',
  'rrp_token_expired_timeout',
  'rrp_autorecovery_check_timeout',
  'nodeid',
  'block_unlisted_ips',
  'cancel_token_hold_on_retransmit',
  'knet_pmtud_interval',
  'knet_compression_model',
  'knet_compression_threshold',
  'knet_compression_level',
  'knet_mtu',
];

const INTERFACE_IGNORED_KEYS = [
  'bindnetaddr',
  'broadcast',
  'knet_link_priority',
  'knet_ping_interval',
  'knet_ping_timeout',
  'knet_ping_precision',
  'knet_pong_count',
  'knet_transport',
];

function ignoring(keys: readonly string[]): Record<string, string> {
  return Object.fromEntries(keys.map((k) => [k, IGNORED_KEY]));
}

function readTotem(ctx: Context, sec: Section | undefined, nodes: readonly RawNode[]): TotemSection {
  const empty: ConfSection = { kind: 'section', name: 'totem', line: 0, children: [] };
  const totem = sec ?? ctx.open(empty, 'totem');
  if (!sec) ctx.warn(0, 'totem', 'missing; every totem setting takes its default');

  const versionItem = totem.item('version');
  if (!versionItem) {
    if (sec) ctx.warn(totem.line, 'totem.version', 'not set; assuming 2');
  } else if (versionItem.value !== '2') {
    ctx.error(versionItem.line, 'totem.version', `expected 2, got ${JSON.stringify(versionItem.value)}`);
  }

  const clusterNameItem = totem.item('cluster_name');
  const clusterName =
    totem.read('cluster_name', (t) => {
      if (t === '') return { ok: false, detail: 'must not be empty' };
      if (Buffer.byteLength(t) > 255)
        return { ok: false, detail: `must be at most 255 bytes, got ${Buffer.byteLength(t)}` };
      // biome-ignore lint/suspicious/noControlCharactersInRegex: the point is to refuse them
      if (/[\u0000-\u001f\u007f]/.test(t))
        return { ok: false, detail: 'must not contain control characters' };
      return { ok: true, value: t };
    }) ?? CONFIG_DEFAULTS.clusterName;

  const transport =
    totem.read('transport', (t) =>
      readEnum<TransportMode>(t, ['udpu', 'udp'], {
        knet: 'use udpu or udp',
        iba: 'use udpu or udp',
      }),
    ) ?? CONFIG_DEFAULTS.transport;

  const cipherItem = totem.item('crypto_cipher');
  const cryptoCipher =
    totem.read('crypto_cipher', (t) =>
      readEnum<CipherName>(t, ['aes256', 'chacha20', 'none'], {
        aes128: 'use aes256 or chacha20',
        aes192: 'use aes256 or chacha20',
        '3des': 'use aes256 or chacha20',
      }),
    ) ?? CONFIG_DEFAULTS.cryptoCipher;
  const hashItem = totem.item('crypto_hash');
  const cryptoHash =
    totem.read('crypto_hash', (t) =>
      readEnum<HashName>(t, ['none', 'md5', 'sha1', 'sha256', 'sha384', 'sha512']),
    ) ?? CONFIG_DEFAULTS.cryptoHash;
  if (
    hashItem &&
    cryptoHash !== 'none' &&
    cryptoCipher === 'none' &&
    (!cipherItem || cipherItem.value === 'none')
  ) {
    ctx.error(
      hashItem.line,
      'totem.crypto_hash',
      'authentication without encryption is not supported; set crypto_cipher (aes256 or chacha20) or crypto_hash: none',
    );
  }
  if (cipherItem && cryptoCipher !== 'none' && !clusterNameItem) {
    ctx.error(
      cipherItem.line,
      'totem.crypto_cipher',
      'needs totem.cluster_name (the packet key is derived from the key file and the cluster name)',
    );
  }

  const keyfile = totem.read('keyfile', readAbsolutePath) ?? CONFIG_DEFAULTS.keyfile;
  const netmtu = totem.read('netmtu', (t) => {
    const r = readInt(t, { unit: 'bytes', max: 65535 });
    if (r.ok && r.value < 576) return { ok: false, detail: `must be at least 576, got ${r.value}` };
    return r;
  });

  const ipVersionItem = totem.item('ip_version');
  const writtenIpVersion = totem.read('ip_version', (t) =>
    readEnum<IpVersion>(t, ['ipv4', 'ipv6'], {
      'ipv4-6': 'use ipv4 or ipv6',
      'ipv6-4': 'use ipv4 or ipv6',
    }),
  );

  // Timings: every key is an integer; zero is allowed only where it means "off".
  const timingInput: Record<string, number> = {};
  const written = new Set<keyof TimingInput>();
  const timingLines = new Map<keyof TimingInput, number>();
  const zeroAllowed = new Set<keyof TimingInput>(['sendJoin', 'tokenCoefficient']);
  const unitless = new Set<keyof TimingInput>([
    'tokenRetransmitsBeforeLossConst',
    'failRecvConst',
    'seqnoUnchangedConst',
    'missCountConst',
    'windowSize',
    'maxMessages',
  ]);
  for (const [field, key] of Object.entries(TIMING_KEYS) as [keyof TimingInput, string][]) {
    const it = totem.item(key);
    const opts: IntOptions = unitless.has(field)
      ? { allowZero: zeroAllowed.has(field) }
      : { unit: 'ms', allowZero: zeroAllowed.has(field) };
    const v = totem.int(key, opts);
    if (it) timingLines.set(field, it.line);
    if (v === undefined) continue;
    timingInput[field] = v;
    written.add(field);
  }
  const timings = resolveTimings(timingInput as TimingInput, nodes.length);
  for (const p of timingProblems(timings, written)) {
    const line = timingLines.get(p.field) ?? timingLines.get('token') ?? totem.line;
    ctx.error(line, `totem.${TIMING_KEYS[p.field]}`, p.detail);
  }

  // Multicast settings may sit in totem { } (ours) or totem.interface { } (corosync's place).
  const ifaceSec = ctx.merged(totem, 'interface');
  for (const ringKey of ['ringnumber', 'linknumber']) {
    const ring = ifaceSec?.int(ringKey, { allowZero: true });
    const it = ifaceSec?.item(ringKey);
    if (ring !== undefined && ring !== 0 && it) {
      ctx.error(it.line, `totem.interface.${ringKey}`, `only ring 0 is supported, got ${ring}`);
    }
  }
  const family = resolveFamily(ctx, writtenIpVersion, ipVersionItem?.line ?? 0, nodes);
  const mcastaddr = pickOne(ctx, totem, ifaceSec, 'mcastaddr', (t) => {
    const r = readIp(t);
    if (!r.ok) return r;
    if (!isMulticast(r.value) || r.value.family !== (family === 'ipv6' ? 6 : 4)) {
      const range =
        family === 'ipv6'
          ? 'an IPv6 multicast address (ff00::/8)'
          : 'an IPv4 multicast address (224.0.0.0 to 239.255.255.255)';
      return { ok: false, detail: `expected ${range}, got ${JSON.stringify(t)}` };
    }
    return { ok: true, value: r.value.text };
  });
  const mcastport = pickOne(ctx, totem, ifaceSec, 'mcastport', readPort) ?? CONFIG_DEFAULTS.mcastport;
  const ttl =
    pickOne(ctx, totem, ifaceSec, 'ttl', (t) => {
      if (!/^[0-9]+$/.test(t) || Number(t) > 255)
        return { ok: false, detail: `expected 0..255, got ${JSON.stringify(t)}` };
      return { ok: true, value: Number(t) };
    }) ?? CONFIG_DEFAULTS.ttl;
  if (transport === 'udpu') {
    for (const key of ['mcastaddr', 'ttl']) {
      const it = totem.item(key) ?? ifaceSec?.item(key);
      if (it)
        ctx.warn(
          it.line,
          ifaceSec?.item(key) ? `totem.interface.${key}` : `totem.${key}`,
          'used only with transport: udp; ignored',
        );
    }
  }
  ifaceSec?.finish({ keys: ignoring(INTERFACE_IGNORED_KEYS) });
  totem.finish({ keys: ignoring(TOTEM_IGNORED_KEYS) });

  return {
    version: 2,
    clusterName,
    transport,
    cryptoCipher,
    cryptoHash,
    netmtu: netmtu ?? CONFIG_DEFAULTS.netmtu,
    keyfile,
    ipVersion: family,
    mcastaddr: mcastaddr ?? defaultMcastAddr(clusterName, family),
    mcastport,
    ttl,
    ...timings,
  };
}

/** A key that may be written in totem { } or totem.interface { }: both must agree. */
function pickOne<T>(
  ctx: Context,
  totem: Section,
  iface: Section | undefined,
  key: string,
  reader: (text: string) => Reading<T>,
): T | undefined {
  const outer = totem.item(key);
  const inner = iface?.item(key);
  const a = totem.read(key, reader);
  const b = iface?.read(key, reader);
  if (outer && inner && outer.value !== inner.value) {
    ctx.error(
      inner.line,
      `totem.interface.${key}`,
      `${JSON.stringify(inner.value)} differs from totem.${key} ${JSON.stringify(outer.value)} (line ${outer.line}); write it once`,
    );
  }
  return b ?? a;
}

function resolveFamily(
  ctx: Context,
  written: IpVersion | undefined,
  line: number,
  nodes: readonly RawNode[],
): IpVersion {
  const first = nodes.find((n) => n.addr !== undefined);
  const family: IpVersion = written ?? (first?.addr?.family === 6 ? 'ipv6' : 'ipv4');
  const want = family === 'ipv6' ? 6 : 4;
  for (const n of nodes) {
    if (!n.addr || n.addr.family === want) continue;
    const because = written
      ? `totem.ip_version is ${family} (line ${line})`
      : `the first node (line ${first!.line}) is IPv${want}`;
    ctx.error(n.addrLine, 'nodelist.node.ring0_addr', `${n.addr.text} is IPv${n.addr.family} but ${because}`);
  }
  return family;
}

/**
 * A group derived from the cluster name, as corosync does when mcastaddr is not written:
 * 239.192.X.Y (IPv4, organisation-local scope) or ff15::X:Y (IPv6), X.Y a 16-bit FNV-1a fold.
 */
export function defaultMcastAddr(clusterName: string, family: IpVersion): string {
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(clusterName, 'utf8')) h = Math.imul(h ^ byte, 0x01000193) >>> 0;
  const id = ((h >>> 16) ^ h) & 0xffff;
  if (family === 'ipv6') return canonicalIp(`ff15::${(id >> 8).toString(16)}:${(id & 0xff).toString(16)}`, 6);
  return `239.192.${id >> 8}.${id & 0xff}`;
}

function finishNodes(ctx: Context, raw: readonly RawNode[], totem: TotemSection): NodeConfig[] {
  const out: NodeConfig[] = [];
  const byId = new Map<number, RawNode>();
  const byEndpoint = new Map<string, RawNode>();
  const byName = new Map<string, RawNode>();
  for (const n of raw) {
    if (!n.addr) continue;
    let nodeId = n.nodeId;
    if (nodeId === undefined) {
      if (n.nodeIdLine !== n.line) continue; // written but invalid: already reported
      if (n.addr.family === 6) {
        ctx.error(n.line, 'nodelist.node.nodeid', 'missing (required with an IPv6 address)');
        continue;
      }
      nodeId = ipv4ToU32(n.addr.text);
      if (nodeId === 0) {
        ctx.error(n.addrLine, 'nodelist.node.nodeid', 'missing, and 0.0.0.0 cannot give one; write a nodeid');
        continue;
      }
    }
    const port = n.port ?? totem.mcastport;
    const sameId = byId.get(nodeId);
    if (sameId) {
      ctx.error(
        n.nodeIdLine,
        'nodelist.node.nodeid',
        `${nodeId} is already used by the node at line ${sameId.line}`,
      );
      continue;
    }
    byId.set(nodeId, n);
    const endpoint = `${n.addr.text}|${port}`;
    const sameEndpoint = byEndpoint.get(endpoint);
    if (sameEndpoint) {
      ctx.error(
        n.addrLine,
        'nodelist.node.ring0_addr',
        `${n.addr.text} port ${port} is already used by the node at line ${sameEndpoint.line}`,
      );
      continue;
    }
    byEndpoint.set(endpoint, n);
    const name = n.name ?? `node${nodeId}`;
    const sameName = byName.get(name);
    if (sameName) {
      ctx.error(
        n.line,
        'nodelist.node.name',
        `${JSON.stringify(name)} is already used by the node at line ${sameName.line}`,
      );
      continue;
    }
    byName.set(name, n);
    out.push({ nodeId, ring0Addr: n.addr.text, port, name, line: n.line });
  }
  return out;
}

const LOGGING_IGNORED_KEYS = [
  'to_syslog',
  'syslog_facility',
  'syslog_priority',
  'logfile_priority',
  'fileline',
  'function_name',
  'blackbox',
];

const SUBSYS_IGNORED_KEYS = [
  ...LOGGING_IGNORED_KEYS,
  'to_stderr',
  'to_logfile',
  'logfile',
  'timestamp',
  'tags',
];

function readDebug(t: string): Reading<DebugLevel> {
  return readEnum<DebugLevel>(t, ['off', 'on', 'trace']);
}

function readLogging(ctx: Context, sec: Section | undefined): LoggingConfig {
  const logging = sec ?? ctx.open({ kind: 'section', name: 'logging', line: 0, children: [] }, 'logging');
  const toStderr = logging.read('to_stderr', readBool) ?? true;
  const toLogfileItem = logging.item('to_logfile');
  const toLogfile = logging.read('to_logfile', readBool) ?? false;
  const logfile = logging.read('logfile', readAbsolutePath);
  if (toLogfile && logfile === undefined && !logging.item('logfile')) {
    ctx.error(toLogfileItem!.line, 'logging.to_logfile', 'needs logging.logfile');
  }
  const debug = logging.read('debug', readDebug) ?? 'off';
  const timestamp =
    logging.read('timestamp', (t) => readEnum<TimestampMode>(t, ['off', 'on', 'hires'])) ?? 'off';
  const loggerSubsys: LoggerSubsys[] = [];
  for (const raw of logging.subsections('logger_subsys')) {
    const sub = ctx.open(raw, 'logging.logger_subsys');
    const subsys = sub.read('subsys', (t) =>
      t === '' ? { ok: false, detail: 'must not be empty' } : { ok: true, value: t },
    );
    if (!sub.item('subsys'))
      ctx.error(raw.line, 'logging.logger_subsys.subsys', 'missing (name the subsystem)');
    const subDebug = sub.read('debug', readDebug) ?? debug;
    sub.finish({ keys: ignoring(SUBSYS_IGNORED_KEYS) });
    if (subsys !== undefined) loggerSubsys.push({ subsys, debug: subDebug });
  }
  logging.finish({ keys: ignoring(LOGGING_IGNORED_KEYS) });
  return { toStderr, toLogfile, logfile, debug, timestamp, loggerSubsys };
}

function readPlock(sec: Section | undefined): PlockConfig {
  if (!sec) return { ownership: false };
  const ownership =
    sec.read('ownership', (t) => {
      const r = readEnum<'on' | 'off'>(t, ['on', 'off']);
      return r.ok ? { ok: true as const, value: r.value === 'on' } : r;
    }) ?? false;
  sec.finish();
  return { ownership };
}

function readRuntime(ctx: Context, sec: Section | undefined, system: Section | undefined): RuntimeConfig {
  const runtime = sec ?? ctx.open({ kind: 'section', name: 'runtime', line: 0, children: [] }, 'runtime');
  const stateDirItem = runtime.item('state_dir');
  let stateDir = runtime.read('state_dir', readAbsolutePath);
  const runDir = runtime.read('run_dir', readAbsolutePath) ?? CONFIG_DEFAULTS.runDir;
  const buffer = (t: string): Reading<number> => {
    const r = readInt(t, { unit: 'bytes', max: 1 << 30 });
    if (r.ok && r.value < 4096) return { ok: false, detail: `must be at least 4096, got ${r.value}` };
    return r;
  };
  const sendBuffer = runtime.read('send_buffer', buffer) ?? CONFIG_DEFAULTS.sendBuffer;
  const recvBuffer = runtime.read('recv_buffer', buffer) ?? CONFIG_DEFAULTS.recvBuffer;
  const ipcSocket = runtime.read('ipc_socket', readAbsolutePath) ?? join(runDir, 'totem.sock');
  const id = (t: string): Reading<number> => readInt(t, { allowZero: true, max: 0x7fff_ffff });
  const ipcUid = runtime.read('ipc_uid', id);
  const ipcGid = runtime.read('ipc_gid', id);
  runtime.finish();
  if (system) {
    const systemStateItem = system.item('state_dir');
    const systemState = system.read('state_dir', readAbsolutePath);
    if (systemStateItem && stateDirItem && systemStateItem.value !== stateDirItem.value) {
      ctx.warn(
        systemStateItem.line,
        'system.state_dir',
        `runtime.state_dir (line ${stateDirItem.line}) is used instead`,
      );
    }
    stateDir ??= systemState;
    system.finish({
      keys: ignoring([
        'sched_rr',
        'priority',
        'qb_ipc_type',
        'move_to_root_cgroup',
        'allow_knet_handle_fallback',
        'run_dir',
      ]),
    });
  }
  return {
    stateDir: stateDir ?? CONFIG_DEFAULTS.stateDir,
    runDir,
    sendBuffer,
    recvBuffer,
    ipcSocket,
    ...(ipcUid === undefined ? {} : { ipcUid }),
    ...(ipcGid === undefined ? {} : { ipcGid }),
  };
}
