import type { ArgKind } from './event-spec.js';
import type { RingImage } from './reader.js';

/** Shows one argument according to its kind in the ring's own registry. */
export function renderArg(image: RingImage, kind: ArgKind | undefined, value: number): string {
  switch (kind) {
    case 'u':
    case 'n':
      return String(value >>> 0);
    case 'x':
      return `0x${(value >>> 0).toString(16)}`;
    case 'b':
      return value ? 'true' : 'false';
    case 's':
      return value === 0 ? '""' : JSON.stringify(image.strings[value - 1] ?? `<string ${value} missing>`);
    case undefined:
    case 'i':
      return String(value);
    default: {
      if (kind.startsWith('e:')) {
        const names = image.enums[kind.slice(2)];
        const name = Array.isArray(names) ? names[value] : undefined;
        return typeof name === 'string' ? name : String(value);
      }
      return String(value);
    }
  }
}

/** A record's event name as `layer.event`, or `event#N` when the registry does not know it. */
export function eventName(image: RingImage, event: number): string {
  const spec = image.specs.get(event);
  return spec ? `${spec.layer}.${spec.name}` : `event#${event}`;
}

export function eventLayer(image: RingImage, event: number): string {
  return image.specs.get(event)?.layer ?? 'unknown';
}

/** Named arguments of record `i`, rendered: `ring=5 seq=1234`. */
export function renderArgs(image: RingImage, i: number): string {
  return argPairs(image, i)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
}

export function argPairs(image: RingImage, i: number): [string, string][] {
  const { records } = image;
  const spec = image.specs.get(records.event[i]!);
  const out: [string, string][] = [];
  if (!spec) {
    for (let a = 0; a < 4; a++) out.push([`a${a}`, String(records.args[i * 8 + a])]);
    return out;
  }
  for (let a = 0; a < spec.argNames.length && a < 8; a++) {
    out.push([spec.argNames[a]!, renderArg(image, spec.argKinds[a], records.args[i * 8 + a]!)]);
  }
  return out;
}

/** Argument values as JSON-friendly values (numbers, strings, booleans). */
export function argObject(image: RingImage, i: number): Record<string, string | number | boolean> {
  const { records } = image;
  const spec = image.specs.get(records.event[i]!);
  const out: Record<string, string | number | boolean> = {};
  if (!spec) {
    for (let a = 0; a < 4; a++) out[`a${a}`] = records.args[i * 8 + a]!;
    return out;
  }
  for (let a = 0; a < spec.argNames.length && a < 8; a++) {
    const kind = spec.argKinds[a];
    const v = records.args[i * 8 + a]!;
    if (kind === 'u' || kind === 'n') out[spec.argNames[a]!] = v >>> 0;
    else if (kind === 'b') out[spec.argNames[a]!] = v !== 0;
    else if (kind === 's' || kind?.startsWith('e:'))
      out[spec.argNames[a]!] = JSON.parse(jsonSafe(renderArg(image, kind, v)));
    else out[spec.argNames[a]!] = kind === 'x' ? renderArg(image, kind, v) : v;
  }
  return out;
}

function jsonSafe(rendered: string): string {
  return rendered.startsWith('"') ? rendered : JSON.stringify(rendered);
}
