/**
 * The shape of a flight-recorder event definition.
 *
 * Every event has a stable numeric id (never reused: a retired id stays reserved so old
 * rings keep decoding), a layer, a name and up to four named numeric arguments. The
 * specification travels inside each ring file, so a ring stays readable after the code
 * that wrote it has changed.
 */

/**
 * How a reader shows an argument. Everything is stored as 32 bits.
 * - `i` signed integer (default), `u` unsigned, `x` hex, `n` node id,
 * - `s` an interned string id, `b` boolean,
 * - `e:NAME` an index into the enum table NAME (e.g. `e:srpState`).
 */
export type ArgKind = 'i' | 'u' | 'x' | 'n' | 's' | 'b' | `e:${string}`;

export interface EventDef {
  readonly id: number;
  /** `name` or `name:kind`; at most four (eight for wide events). */
  readonly args: readonly string[];
  readonly doc: string;
  /** A wide event is written as two slots and carries up to eight arguments. */
  readonly wide?: boolean;
}

export interface EventSpec {
  readonly id: number;
  readonly layer: string;
  readonly name: string;
  readonly argNames: readonly string[];
  readonly argKinds: readonly ArgKind[];
  readonly doc: string;
  readonly wide: boolean;
}

export interface LayerDef<K extends string> {
  readonly layer: string;
  readonly first: number;
  readonly last: number;
  readonly events: Readonly<Record<K, EventDef>>;
}

/** Declares one layer's events inside its reserved id range. */
export function defineLayer<K extends string>(
  layer: string,
  first: number,
  last: number,
  events: Record<K, EventDef>,
): LayerDef<K> {
  return { layer, first, last, events };
}

export function parseArg(arg: string): { name: string; kind: ArgKind } {
  const colon = arg.indexOf(':');
  if (colon < 0) return { name: arg, kind: 'i' };
  return { name: arg.slice(0, colon), kind: arg.slice(colon + 1) as ArgKind };
}
