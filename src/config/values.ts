/** Typed readings of one configuration value; each returns a value or an error detail. */
import { isIP, SocketAddress } from 'node:net';

export type Reading<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly detail: string };

const ok = <T>(value: T): Reading<T> => ({ ok: true, value });
const bad = <T>(detail: string): Reading<T> => ({ ok: false, detail });

const U32_MAX = 0xffff_ffff;

export interface IntOptions {
  /** Unit shown in messages, e.g. 'ms' or 'bytes'. */
  readonly unit?: string;
  /** 0 accepted (default: a positive integer is required). */
  readonly allowZero?: boolean;
  readonly max?: number;
}

/** A decimal integer without sign, as corosync's strtol-based reader accepts (minus the sign). */
export function readInt(text: string, opts: IntOptions = {}): Reading<number> {
  const what = opts.allowZero ? 'a non-negative integer' : 'a positive integer';
  const unit = opts.unit ? ` (${opts.unit})` : '';
  if (!/^[0-9]+$/.test(text)) return bad(`expected ${what}${unit}, got ${JSON.stringify(text)}`);
  const max = opts.max ?? U32_MAX;
  const value = Number(text);
  if (value > max) return bad(`must be at most ${max}, got ${text}`);
  if (value === 0 && !opts.allowZero) return bad(`expected ${what}${unit}, got "0"`);
  return ok(value);
}

export function readPort(text: string): Reading<number> {
  if (!/^[0-9]+$/.test(text) || Number(text) < 1 || Number(text) > 65535) {
    return bad(`expected a port number (1..65535), got ${JSON.stringify(text)}`);
  }
  return ok(Number(text));
}

const TRUE_WORDS = new Set(['yes', 'on', 'true']);
const FALSE_WORDS = new Set(['no', 'off', 'false']);

export function readBool(text: string): Reading<boolean> {
  if (TRUE_WORDS.has(text)) return ok(true);
  if (FALSE_WORDS.has(text)) return ok(false);
  return bad(`expected yes or no, got ${JSON.stringify(text)}`);
}

/**
 * One of a fixed set. `refused` lists values corosync knows that we do not support, each
 * with the reason shown to the user.
 */
export function readEnum<T extends string>(
  text: string,
  allowed: readonly T[],
  refused: Readonly<Record<string, string>> = {},
): Reading<T> {
  if ((allowed as readonly string[]).includes(text)) return ok(text as T);
  const why = refused[text];
  if (why !== undefined) return bad(`${JSON.stringify(text)} is not supported (${why})`);
  return bad(`expected one of ${allowed.join(', ')}, got ${JSON.stringify(text)}`);
}

export function readAbsolutePath(text: string): Reading<string> {
  if (!text.startsWith('/')) return bad(`expected an absolute path, got ${JSON.stringify(text)}`);
  return ok(text);
}

export interface IpAddress {
  /** Canonical text (IPv6 compressed and lower case). */
  readonly text: string;
  readonly family: 4 | 6;
}

/** A literal IPv4 or IPv6 address; host names are refused (the loader never resolves names). */
export function readIp(text: string): Reading<IpAddress> {
  const family = isIP(text);
  if (family === 0) {
    return bad(`expected an IPv4 or IPv6 address, got ${JSON.stringify(text)} (host names are not resolved)`);
  }
  return ok({ text: canonicalIp(text, family as 4 | 6), family: family as 4 | 6 });
}

/** The canonical text of a literal address (for comparing configured and source addresses). */
export function canonicalIp(text: string, family: 4 | 6): string {
  if (family === 4) return text;
  const zone = text.indexOf('%');
  const bare = zone >= 0 ? text.slice(0, zone) : text;
  const canonical = new SocketAddress({ address: bare, family: 'ipv6' }).address;
  return zone >= 0 ? canonical + text.slice(zone) : canonical;
}

export function isMulticast(ip: IpAddress): boolean {
  if (ip.family === 4) {
    const first = Number(ip.text.split('.')[0]);
    return first >= 224 && first <= 239;
  }
  return ip.text.startsWith('ff');
}

/** The IPv4 address read as a big-endian u32 (how corosync derives a missing nodeid). */
export function ipv4ToU32(text: string): number {
  const parts = text.split('.').map(Number);
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

/** Levenshtein distance, for "did you mean" hints on unknown keys. */
export function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
}
