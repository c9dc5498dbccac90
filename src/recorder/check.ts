import { EV } from './events/index.js';
import { monoNs, type RingImage } from './reader.js';

/**
 * Delivery checks over flight-recorder rings (the notes' §5.7): messages transmitted but
 * never delivered, order differing between members, duplicates, and application messages
 * lost or merged in the process-group layer. Each finding carries its witnesses.
 *
 * Every input ring is one incarnation of one node ("stream"). The checks read only the
 * contract events SRP_MCAST_TX, SRP_DELIVER, SRP_CONF(+_MEMBER), SRP_TOKEN_RX, PG_SEND and
 * PG_DELIVER, so they run the same on daemon rings and on simulator rings.
 */

export type FindingKind =
  | 'not-delivered'
  | 'order'
  | 'conf-place'
  | 'duplicate'
  | 'pg-lost'
  | 'pg-merged'
  | 'pg-duplicate'
  | 'pg-invented';

export interface Finding {
  readonly kind: FindingKind;
  readonly message: string;
  readonly witnesses: readonly string[];
}

export interface CheckReport {
  readonly findings: readonly Finding[];
  /** Facts worth showing that are not failures (coverage, longest token gap). */
  readonly notes: readonly string[];
  readonly counts: {
    readonly streams: number;
    readonly transmitted: number;
    readonly delivered: number;
    readonly configurations: number;
    readonly pgSent: number;
    readonly pgDelivered: number;
  };
}

interface Witnessed {
  readonly stream: number;
  readonly rec: number;
  readonly ns: number;
}
interface Deliver extends Witnessed {
  readonly ring: string;
  readonly seq: number;
  readonly sender: number;
}
interface Conf extends Witnessed {
  readonly kind: 'transitional' | 'regular';
  readonly ring: string;
  readonly members: number[];
  readonly left: number[];
  readonly joined: number[];
}
interface Mcast extends Witnessed {
  readonly ring: string;
  readonly seq: number;
}
interface PgSend extends Witnessed {
  readonly msgId: number;
  readonly len: number;
}
interface PgDeliver extends Witnessed {
  readonly sender: number;
  /** The ring of the srp delivery (the frame) that completed it, '' if none was seen. */
  readonly ring: string;
  readonly msgId: number;
  readonly len: number;
}
type Item = { t: 'deliver'; d: Deliver } | { t: 'conf'; c: Conf } | { t: 'pg'; p: PgDeliver };

interface Stream {
  readonly node: number;
  readonly source: string;
  readonly closed: boolean;
  /** True when the ring still holds its first record (nothing was overwritten). */
  readonly complete: boolean;
  readonly firstNs: number;
  readonly lastNs: number;
  readonly items: Item[];
  readonly mcasts: Mcast[];
  readonly pgSends: PgSend[];
  readonly tokenNs: number[];
}

const MAX_WITNESSES = 6;
const MAX_FINDINGS_PER_KIND = 50;

function ringKey(rep: number, seq: number): string {
  return `${rep >>> 0}.${seq >>> 0}`;
}

function buildStream(image: RingImage, index: number): Stream | undefined {
  const header = image.header;
  if (!header) return undefined;
  const { records } = image;
  const items: Item[] = [];
  const mcasts: Mcast[] = [];
  const pgSends: PgSend[] = [];
  const tokenNs: number[] = [];
  let pendingConf: { c: Conf; remaining: number } | undefined;
  let lastDeliverRing = '';
  for (let i = 0; i < records.count; i++) {
    const ev = records.event[i]!;
    const a = i * 8;
    const a0 = records.args[a]!;
    const a1 = records.args[a + 1]!;
    const a2 = records.args[a + 2]!;
    const a3 = records.args[a + 3]!;
    const w = { stream: index, rec: records.seq[i]!, ns: monoNs(header, records.ts[i]!) };
    switch (ev) {
      case EV.SRP_MCAST_TX:
        mcasts.push({ ...w, ring: ringKey(a0, a1), seq: a2 >>> 0 });
        break;
      case EV.SRP_DELIVER:
        lastDeliverRing = ringKey(a0, a1);
        items.push({ t: 'deliver', d: { ...w, ring: lastDeliverRing, seq: a2 >>> 0, sender: a3 >>> 0 } });
        break;
      case EV.SRP_CONF: {
        const c: Conf = {
          ...w,
          kind: a0 === 0 ? 'transitional' : 'regular',
          ring: ringKey(a1, a2),
          members: [],
          left: [],
          joined: [],
        };
        items.push({ t: 'conf', c });
        pendingConf = { c, remaining: a3 >>> 0 };
        break;
      }
      case EV.SRP_CONF_MEMBER: {
        if (pendingConf && pendingConf.c.ring === ringKey(a0, a1)) {
          const list =
            a3 === 1 ? pendingConf.c.left : a3 === 2 ? pendingConf.c.joined : pendingConf.c.members;
          list.push(a2 >>> 0);
        }
        break;
      }
      case EV.SRP_TOKEN_RX:
        tokenNs.push(w.ns);
        break;
      case EV.PG_SEND:
        pgSends.push({ ...w, msgId: a0 >>> 0, len: a1 >>> 0 });
        break;
      case EV.PG_DELIVER:
        items.push({
          t: 'pg',
          p: { ...w, sender: a0 >>> 0, msgId: a1 >>> 0, len: a2 >>> 0, ring: lastDeliverRing },
        });
        break;
      default:
        break;
    }
  }
  const count = records.count;
  return {
    node: header.nodeId,
    source: image.source,
    closed: header.closed,
    complete: count > 0 && records.event[0] === EV.REC_OPEN,
    firstNs: count > 0 ? monoNs(header, records.ts[0]!) : 0,
    lastNs: count > 0 ? monoNs(header, records.ts[count - 1]!) : 0,
    items,
    mcasts,
    pgSends,
    tokenNs,
  };
}

function witness(streams: readonly Stream[], w: Witnessed, what: string): string {
  const s = streams[w.stream]!;
  return `node=${s.node} rec=[${w.rec}] ${what} (${s.source})`;
}

class Findings {
  readonly list: Finding[] = [];
  private readonly perKind = new Map<FindingKind, number>();
  add(kind: FindingKind, message: string, witnesses: string[]): void {
    const n = (this.perKind.get(kind) ?? 0) + 1;
    this.perKind.set(kind, n);
    if (n <= MAX_FINDINGS_PER_KIND)
      this.list.push({ kind, message, witnesses: witnesses.slice(0, MAX_WITNESSES) });
  }
  notes(): string[] {
    const out: string[] = [];
    for (const [kind, n] of this.perKind) {
      if (n > MAX_FINDINGS_PER_KIND)
        out.push(`${n - MAX_FINDINGS_PER_KIND} more '${kind}' findings not shown`);
    }
    return out;
  }
}

/** What a stream did in one regular configuration: deliveries before and after the next transitional one. */
interface Installation {
  readonly stream: number;
  readonly reg: Conf;
  /** The transitional configuration that ended it, if the stream got that far. */
  readonly trans: Conf | undefined;
  readonly beforeTrans: Deliver[];
  readonly inTrans: Deliver[];
  readonly delivered: Set<string>;
}

function installationsOf(streamIndex: number, s: Stream): Installation[] {
  const out: Installation[] = [];
  let cur:
    | { reg: Conf; trans: Conf | undefined; before: Deliver[]; inTrans: Deliver[]; set: Set<string> }
    | undefined;
  const close = (): void => {
    if (cur)
      out.push({
        stream: streamIndex,
        reg: cur.reg,
        trans: cur.trans,
        beforeTrans: cur.before,
        inTrans: cur.inTrans,
        delivered: cur.set,
      });
  };
  for (const item of s.items) {
    if (item.t === 'conf') {
      if (item.c.kind === 'regular') {
        close();
        cur = { reg: item.c, trans: undefined, before: [], inTrans: [], set: new Set() };
      } else if (cur && !cur.trans) {
        cur.trans = item.c;
      }
    } else if (item.t === 'deliver' && cur) {
      (cur.trans ? cur.inTrans : cur.before).push(item.d);
      cur.set.add(`${item.d.ring}#${item.d.seq}`);
    }
  }
  close();
  return out;
}

export function checkRings(images: readonly RingImage[]): CheckReport {
  const streams = images.map(buildStream).filter((s): s is Stream => s !== undefined);
  // Re-index witnesses to the filtered list.
  streams.forEach((s, i) => {
    for (const item of s.items) {
      const w = item.t === 'deliver' ? item.d : item.t === 'conf' ? item.c : item.p;
      (w as { stream: number }).stream = i;
    }
    for (const m of s.mcasts) (m as { stream: number }).stream = i;
    for (const p of s.pgSends) (p as { stream: number }).stream = i;
  });
  const findings = new Findings();
  const notes: string[] = [];
  // Only the span every overwritten ring still covers can be checked for absence.
  let coverageStart = Number.NEGATIVE_INFINITY;
  for (const s of streams) if (!s.complete && s.firstNs > coverageStart) coverageStart = s.firstNs;
  if (Number.isFinite(coverageStart))
    notes.push("some rings wrapped: absence is checked only after every ring's oldest record");

  const installs = streams.flatMap((s, i) => installationsOf(i, s));
  const byRing = new Map<string, Installation[]>();
  for (const inst of installs) {
    const list = byRing.get(inst.reg.ring) ?? [];
    list.push(inst);
    byRing.set(inst.reg.ring, list);
  }

  checkDuplicatesAndOrder(streams, findings);
  checkSenderAgreement(streams, findings);
  checkTransmittedDelivered(streams, byRing, coverageStart, findings);
  checkConfigurationPlace(streams, byRing, findings);
  const pg = checkProcessGroups(streams, coverageStart, findings);

  for (const s of streams) {
    let gap = 0;
    for (let i = 1; i < s.tokenNs.length; i++) gap = Math.max(gap, s.tokenNs[i]! - s.tokenNs[i - 1]!);
    if (s.tokenNs.length > 1)
      notes.push(`node ${s.node}: longest gap between tokens ${(gap / 1e6).toFixed(3)} ms`);
  }
  notes.push(...findings.notes());
  return {
    findings: findings.list,
    notes,
    counts: {
      streams: streams.length,
      transmitted: streams.reduce((n, s) => n + s.mcasts.length, 0),
      delivered: streams.reduce((n, s) => n + s.items.filter((i) => i.t === 'deliver').length, 0),
      configurations: streams.reduce((n, s) => n + s.items.filter((i) => i.t === 'conf').length, 0),
      pgSent: pg.sent,
      pgDelivered: pg.delivered,
    },
  };
}

function checkDuplicatesAndOrder(streams: readonly Stream[], findings: Findings): void {
  streams.forEach((s) => {
    const seen = new Map<string, Deliver>();
    const lastSeqOfRing = new Map<string, Deliver>();
    for (const item of s.items) {
      if (item.t !== 'deliver') continue;
      const d = item.d;
      const key = `${d.ring}#${d.seq}`;
      const first = seen.get(key);
      if (first) {
        findings.add('duplicate', `node ${s.node} delivered ring ${d.ring} seq ${d.seq} twice`, [
          witness(streams, first, 'srp.deliver'),
          witness(streams, d, 'srp.deliver'),
        ]);
      } else seen.set(key, d);
      const prev = lastSeqOfRing.get(d.ring);
      if (prev && !first && ((d.seq - prev.seq) | 0) <= 0) {
        findings.add('order', `node ${s.node} delivered ring ${d.ring} seq ${d.seq} after seq ${prev.seq}`, [
          witness(streams, prev, 'srp.deliver'),
          witness(streams, d, 'srp.deliver'),
        ]);
      }
      lastSeqOfRing.set(d.ring, d);
    }
  });
}

function checkSenderAgreement(streams: readonly Stream[], findings: Findings): void {
  const owner = new Map<string, Deliver>();
  for (const s of streams) {
    for (const item of s.items) {
      if (item.t !== 'deliver') continue;
      const key = `${item.d.ring}#${item.d.seq}`;
      const first = owner.get(key);
      if (!first) owner.set(key, item.d);
      else if (first.sender !== item.d.sender) {
        findings.add(
          'order',
          `ring ${item.d.ring} seq ${item.d.seq} was delivered from sender ${first.sender} on node ${streams[first.stream]!.node} but from sender ${item.d.sender} on node ${s.node}`,
          [witness(streams, first, 'srp.deliver'), witness(streams, item.d, 'srp.deliver')],
        );
      }
    }
  }
}

function checkTransmittedDelivered(
  streams: readonly Stream[],
  byRing: ReadonlyMap<string, Installation[]>,
  coverageStart: number,
  findings: Findings,
): void {
  streams.forEach((sender) => {
    for (const m of sender.mcasts) {
      if (m.ns < coverageStart) continue;
      const installs = byRing.get(m.ring) ?? [];
      const senderInstall = installs.find(
        (i) => streams[i.stream]!.node === sender.node && i.stream === m.stream,
      );
      const missing: Installation[] = [];
      const have: number[] = [];
      for (const inst of installs) {
        const member = streams[inst.stream]!;
        let required: boolean;
        if (inst.trans) required = inst.trans.members.includes(sender.node);
        else required = member.closed && sender.closed && senderInstall !== undefined && !senderInstall.trans;
        if (inst.delivered.has(`${m.ring}#${m.seq}`)) have.push(member.node);
        else if (required) missing.push(inst);
      }
      if (missing.length > 0) {
        findings.add(
          'not-delivered',
          `ring ${m.ring} seq ${m.seq} from node ${sender.node} delivered on {${have.join(',')}}, missing on {${missing
            .map((i) => streams[i.stream]!.node)
            .join(',')}}`,
          [
            witness(streams, m, 'srp.mcast_tx'),
            ...missing.map((i) =>
              witness(
                streams,
                i.trans ?? i.reg,
                i.trans
                  ? 'srp.conf transitional (left the ring without it)'
                  : 'srp.conf regular (never delivered it)',
              ),
            ),
          ],
        );
      }
    }
  });
}

function sameList(a: readonly Deliver[], b: readonly Deliver[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i]!.ring !== b[i]!.ring || a[i]!.seq !== b[i]!.seq) return i;
  return a.length === b.length ? -1 : n;
}

function checkConfigurationPlace(
  streams: readonly Stream[],
  byRing: ReadonlyMap<string, Installation[]>,
  findings: Findings,
): void {
  for (const [ring, installs] of byRing) {
    // Members that moved together (same transitional configuration) must have delivered
    // exactly the same messages before it and inside it.
    const groups = new Map<string, Installation[]>();
    for (const inst of installs) {
      if (!inst.trans) continue;
      const key = `${inst.trans.ring}|${inst.trans.members.join(',')}`;
      const g = groups.get(key) ?? [];
      g.push(inst);
      groups.set(key, g);
    }
    for (const group of groups.values()) {
      const base = group[0]!;
      for (const other of group.slice(1)) {
        for (const [phase, a, b] of [
          ['before the transitional configuration', base.beforeTrans, other.beforeTrans],
          ['inside the transitional configuration', base.inTrans, other.inTrans],
        ] as const) {
          const at = sameList(a, b);
          if (at < 0) continue;
          const wa = a[at] ?? base.trans!;
          const wb = b[at] ?? other.trans!;
          findings.add(
            'conf-place',
            `nodes ${streams[base.stream]!.node} and ${streams[other.stream]!.node} left ring ${ring} together but delivered different messages ${phase} (first difference at position ${at})`,
            [witness(streams, wa, 'first difference'), witness(streams, wb, 'first difference')],
          );
        }
      }
    }
  }
}

function checkProcessGroups(
  streams: readonly Stream[],
  coverageStart: number,
  findings: Findings,
): { sent: number; delivered: number } {
  // Sends by node, newest incarnation last.
  const sendsByNode = new Map<number, { stream: Stream; byId: Map<number, PgSend>; rings: Set<string> }[]>();
  let sent = 0;
  let delivered = 0;
  for (const s of streams) {
    const byId = new Map<number, PgSend>();
    for (const p of s.pgSends) byId.set(p.msgId, p);
    sent += s.pgSends.length;
    const list = sendsByNode.get(s.node) ?? [];
    list.push({ stream: s, byId, rings: new Set(s.mcasts.map((m) => m.ring)) });
    list.sort((a, b) => a.stream.firstNs - b.stream.firstNs);
    sendsByNode.set(s.node, list);
  }
  const sendFor = (
    sender: number,
    msgId: number,
    ns: number,
    ring: string,
  ): { send?: PgSend; covered: boolean } => {
    const incarnations = sendsByNode.get(sender) ?? [];
    // The incarnation that multicast in the frame's ring sent it; a crashed incarnation's
    // messages may be delivered (recovered) after its successor started, so time alone misleads.
    let chosen = incarnations.find((inc) => inc.rings.has(ring));
    if (!chosen) {
      // Without the frame's ring (its srp.deliver or the sender's srp.mcast_tx fell out of a
      // wrapped ring) several incarnations cannot be told apart: a restarted sender reuses
      // message ids, and time does not help either, as above.
      if (incarnations.length !== 1) return { covered: false };
      if (incarnations[0]!.stream.firstNs <= ns) chosen = incarnations[0];
    }
    if (!chosen) return { covered: false };
    const send = chosen.byId.get(msgId);
    return send ? { send, covered: true } : { covered: chosen.stream.complete };
  };

  streams.forEach((s) => {
    // Per sender: the ids delivered since the last configuration change.
    const lastId = new Map<number, PgDeliver>();
    const seen = new Map<string, PgDeliver>();
    let epoch = 0;
    for (const item of s.items) {
      if (item.t === 'conf') {
        epoch++;
        lastId.clear();
        continue;
      }
      if (item.t !== 'pg') continue;
      delivered++;
      const p = item.p;
      const { send, covered } = sendFor(p.sender, p.msgId, p.ns, p.ring);
      const key = `${p.sender}#${p.msgId}#${send ? `${send.stream}.${send.rec}` : epoch}`;
      const dup = seen.get(key);
      if (dup) {
        findings.add(
          'pg-duplicate',
          `node ${s.node} delivered message ${p.msgId} of node ${p.sender} twice`,
          [witness(streams, dup, 'pg.deliver'), witness(streams, p, 'pg.deliver')],
        );
      }
      seen.set(key, p);
      if (send && send.len !== p.len) {
        findings.add(
          'pg-merged',
          `message ${p.msgId} of node ${p.sender} was sent with ${send.len} bytes but delivered with ${p.len} on node ${s.node}`,
          [witness(streams, send, 'pg.send'), witness(streams, p, 'pg.deliver')],
        );
      } else if (!send && covered && p.ns >= coverageStart) {
        findings.add(
          'pg-invented',
          `node ${s.node} delivered message ${p.msgId} of node ${p.sender}, which it never sent`,
          [witness(streams, p, 'pg.deliver')],
        );
      }
      const prev = lastId.get(p.sender);
      if (prev && ((p.msgId - prev.msgId) | 0) > 1) {
        const missing = (p.msgId - prev.msgId - 1) >>> 0;
        findings.add(
          'pg-lost',
          `node ${s.node} delivered messages ${prev.msgId} and ${p.msgId} of node ${p.sender} with nothing between, in one configuration: ${missing} message(s) lost or merged`,
          [witness(streams, prev, 'pg.deliver'), witness(streams, p, 'pg.deliver')],
        );
      }
      lastId.set(p.sender, p);
    }
  });
  return { sent, delivered };
}
