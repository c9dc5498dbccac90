import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { type CheckReport, checkRings } from '../recorder/check.js';
import { chromeTrace } from '../recorder/chrome-trace.js';
import { lineJson, type ReplayFilter, replay, summarize, summaryLine } from '../recorder/fplay.js';
import { loadRings } from '../recorder/load.js';

const HELP = `usage: totem fplay [options] FILE|DIR...
       totem fplay check [--json] FILE|DIR...

Decodes flight-recorder rings (live fr-*.ring, salvaged fdata-*.ring, dumps, simulator
rings), merges them by time and prints one line a record:
  node=2 rec=[617103] t=12.345678 srp.deliver ringRep=1 ringSeq=5 seq=1234 sender=1
then 'records found [N]'. A directory means every *.ring file in it.

options:
  --node N[,N...]        only these nodes
  --layer L[,L...]       only these layers (rec, srp, pg, sync, cpg, ckpt, ...)
  --grep REGEX           only lines matching REGEX
  --since T, --until T   time window from the first record (e.g. 1.5, 1.5s, 300ms)
  --last N               only the last N records (after the other filters)
  --json                 one JSON object a line (files, records, summary)
  --chrome-trace OUT     also write a Chrome trace (Perfetto, chrome://tracing)

check: transmitted but never delivered, order differing between members, duplicates,
configuration changes at different places, and process-group messages lost or merged.
Each finding prints its witnesses; exit status 1 when anything is found.
`;

export async function run(args: string[]): Promise<number> {
  if (args[0] === 'check') return runCheck(args.slice(1));
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(args);
  } catch (err) {
    process.stderr.write(`totem fplay: ${(err as Error).message}\n\n${HELP}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (positionals.length === 0) {
    process.stderr.write(`totem fplay: no FILE or DIR given\n\n${HELP}`);
    return 2;
  }
  let filter: ReplayFilter;
  try {
    filter = buildFilter(values);
  } catch (err) {
    process.stderr.write(`totem fplay: ${(err as Error).message}\n`);
    return 2;
  }
  const { images, errors } = loadRings(positionals);
  for (const e of errors) process.stderr.write(`totem fplay: ${e}\n`);
  const lines = replay(images, filter);
  const out: string[] = [];
  const flush = (): void => {
    if (out.length > 0) process.stdout.write(`${out.join('\n')}\n`);
    out.length = 0;
  };
  if (values.json) {
    for (const img of images) out.push(JSON.stringify({ type: 'file', ...summarize(img) }));
    for (const line of lines) {
      out.push(lineJson(images, line));
      if (out.length >= 4096) flush();
    }
    out.push(JSON.stringify({ type: 'summary', recordsFound: lines.length, unreadable: errors }));
  } else {
    for (const img of images) out.push(summaryLine(summarize(img)));
    for (const line of lines) {
      out.push(line.text);
      if (out.length >= 4096) flush();
    }
    out.push(`records found [${lines.length}]`);
  }
  flush();
  if (values['chrome-trace']) writeFileSync(values['chrome-trace'], chromeTrace(images, lines));
  return errors.length > 0 && images.length === 0 ? 1 : 0;
}

function parse(args: string[]) {
  return parseArgs({
    args,
    allowPositionals: true,
    options: {
      node: { type: 'string', multiple: true },
      layer: { type: 'string', multiple: true },
      grep: { type: 'string' },
      since: { type: 'string' },
      until: { type: 'string' },
      last: { type: 'string' },
      json: { type: 'boolean' },
      'chrome-trace': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

/** Parses "1.5", "1.5s" or "300ms" into seconds. */
export function parseSeconds(text: string, what: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s)?$/.exec(text.trim());
  if (!m) throw new Error(`${what}: expected a time like 1.5, 1.5s or 300ms, got "${text}"`);
  const n = Number(m[1]);
  return m[2] === 'ms' ? n / 1000 : n;
}

function buildFilter(values: ReturnType<typeof parse>['values']): ReplayFilter {
  const list = (v: string[] | undefined): string[] | undefined =>
    v?.flatMap((s) => s.split(',')).filter((s) => s.length > 0);
  const nodes = list(values.node)?.map((n) => {
    if (!/^\d+$/.test(n)) throw new Error(`--node: expected node ids, got "${n}"`);
    return Number(n);
  });
  let grep: RegExp | undefined;
  if (values.grep !== undefined) {
    try {
      grep = new RegExp(values.grep);
    } catch {
      throw new Error(`--grep: not a regular expression: ${values.grep}`);
    }
  }
  let last: number | undefined;
  if (values.last !== undefined) {
    if (!/^\d+$/.test(values.last)) throw new Error(`--last: expected a count, got "${values.last}"`);
    last = Number(values.last);
  }
  return {
    ...(nodes ? { nodes } : {}),
    ...(list(values.layer) ? { layers: list(values.layer)! } : {}),
    ...(grep ? { grep } : {}),
    ...(values.since !== undefined ? { since: parseSeconds(values.since, '--since') } : {}),
    ...(values.until !== undefined ? { until: parseSeconds(values.until, '--until') } : {}),
    ...(last !== undefined ? { last } : {}),
  };
}

export function formatCheckReport(report: CheckReport): string {
  const lines: string[] = [];
  const c = report.counts;
  lines.push(
    `checked ${c.streams} ring(s): ${c.transmitted} transmitted, ${c.delivered} delivered, ${c.configurations} configuration(s), ${c.pgSent} pg sent, ${c.pgDelivered} pg delivered`,
  );
  for (const note of report.notes) lines.push(`note: ${note}`);
  for (const f of report.findings) {
    lines.push(`FINDING ${f.kind}: ${f.message}`);
    for (const w of f.witnesses) lines.push(`    witness ${w}`);
  }
  lines.push(report.findings.length === 0 ? 'check: clean' : `check: ${report.findings.length} finding(s)`);
  return `${lines.join('\n')}\n`;
}

async function runCheck(args: string[]): Promise<number> {
  let values: { json?: boolean; help?: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    }));
  } catch (err) {
    process.stderr.write(`totem fplay check: ${(err as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (positionals.length === 0) {
    process.stderr.write(`totem fplay check: no FILE or DIR given\n`);
    return 2;
  }
  const { images, errors } = loadRings(positionals);
  for (const e of errors) process.stderr.write(`totem fplay check: ${e}\n`);
  for (const img of images) {
    for (const p of img.problems) process.stderr.write(`totem fplay check: ${img.source}: ${p}\n`);
  }
  const report = checkRings(images);
  process.stdout.write(values.json ? `${JSON.stringify(report)}\n` : formatCheckReport(report));
  return report.findings.length > 0 || images.length === 0 ? 1 : 0;
}
