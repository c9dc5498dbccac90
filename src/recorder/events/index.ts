/**
 * The one registry of flight-recorder events.
 *
 * Id ranges, one per layer (a layer adds events only inside its own range):
 *   1..99 recorder · 100..299 srp · 300..399 pg · 400..499 sync · 500..599 cpg
 *   600..699 ckpt · 700..799 plock · 800..899 runtime · 900..999 transport
 *   1000..1099 ipc · 1100..1199 sim
 */
import { type EventSpec, type LayerDef, parseArg } from '../event-spec.js';
import { CKPT_EVENTS } from './ckpt.js';
import { CPG_EVENTS } from './cpg.js';
import { ENUMS } from './enums.js';
import { IPC_EVENTS } from './ipc.js';
import { PG_EVENTS } from './pg.js';
import { PLOCK_EVENTS } from './plock.js';
import { RECORDER_EVENTS } from './recorder.js';
import { RUNTIME_EVENTS } from './runtime.js';
import { SIM_EVENTS } from './sim.js';
import { SRP_EVENTS } from './srp.js';
import { SYNC_EVENTS } from './sync.js';
import { TRANSPORT_EVENTS } from './transport.js';

const LAYERS = [
  RECORDER_EVENTS,
  SRP_EVENTS,
  PG_EVENTS,
  SYNC_EVENTS,
  CPG_EVENTS,
  CKPT_EVENTS,
  PLOCK_EVENTS,
  RUNTIME_EVENTS,
  TRANSPORT_EVENTS,
  IPC_EVENTS,
  SIM_EVENTS,
] as const;

type Flatten<L> = L extends LayerDef<infer K> ? K : never;
type Prefix<P extends string, K extends string> = `${P}_${K}`;

/** Event ids for hot call sites: `rec(EV.SRP_DELIVER, ...)`. */
export const EV = {
  ...prefixed('REC', RECORDER_EVENTS),
  ...prefixed('SRP', SRP_EVENTS),
  ...prefixed('PG', PG_EVENTS),
  ...prefixed('SYNC', SYNC_EVENTS),
  ...prefixed('CKPT', CKPT_EVENTS),
  ...prefixed('PLOCK', PLOCK_EVENTS),
  ...prefixed('RUNTIME', RUNTIME_EVENTS),
  ...prefixed('TRANSPORT', TRANSPORT_EVENTS),
  ...prefixed('CPG', CPG_EVENTS),
  ...prefixed('IPC', IPC_EVENTS),
  ...prefixed('SIM', SIM_EVENTS),
} as const;

export type EventName = keyof typeof EV;

function prefixed<P extends string, L extends LayerDef<string>>(
  prefix: P,
  layer: L,
): { readonly [K in Flatten<L> as Prefix<P, K>]: number } {
  const out: Record<string, number> = {};
  for (const [key, def] of Object.entries(layer.events)) out[`${prefix}_${key}`] = def.id;
  return out as { readonly [K in Flatten<L> as Prefix<P, K>]: number };
}

/** Every event by id, with parsed argument names and kinds. */
export const EVENT_SPECS: ReadonlyMap<number, EventSpec> = buildSpecs();

function buildSpecs(): Map<number, EventSpec> {
  const specs = new Map<number, EventSpec>();
  for (const layer of LAYERS) {
    for (const [key, def] of Object.entries(layer.events)) {
      if (def.id < layer.first || def.id > layer.last) {
        throw new Error(`event ${layer.layer}.${key} id ${def.id} is outside ${layer.first}..${layer.last}`);
      }
      if (specs.has(def.id)) throw new Error(`event id ${def.id} is used twice`);
      const max = def.wide ? 8 : 4;
      if (def.args.length > max) throw new Error(`event ${layer.layer}.${key} has more than ${max} args`);
      const parsed = def.args.map(parseArg);
      specs.set(def.id, {
        id: def.id,
        layer: layer.layer,
        name: key.toLowerCase(),
        argNames: parsed.map((a) => a.name),
        argKinds: parsed.map((a) => a.kind),
        doc: def.doc,
        wide: def.wide ?? false,
      });
    }
  }
  return specs;
}

export { ENUMS };

/** The registry as stored in a ring file's metadata region. */
export interface RegistryJson {
  readonly version: 1;
  readonly events: readonly EventSpec[];
  readonly enums: Readonly<Record<string, readonly string[]>>;
}

export function registryJson(): RegistryJson {
  return { version: 1, events: [...EVENT_SPECS.values()], enums: ENUMS };
}
