/**
 * Runs the benchmarks: `npm run bench [-- NAME... [--json]]`. Each prints figures; none
 * passes or fails. Without a name, every benchmark runs in turn.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const BENCHES: Record<string, string> = {
  recorder: 'recorder/recorder-bench.js',
  pg: 'pg/pg-bench.js',
  cpg: 'cpg/cpg-bench.js',
  'daemon-cpg': 'cpg/daemon-cpg-bench.js',
  transport: 'transport/crypto-bench.js',
  ckpt: 'ckpt/ckpt-bench.js',
  plock: 'plock/plock-bench.js',
  srp: 'srp-throughput.js',
  cluster: 'runtime/cluster-bench.js',
  sim: 'sim/sim-bench.js',
};

const args = process.argv.slice(2);
const names = args.filter((a) => !a.startsWith('--'));
const flags = args.filter((a) => a.startsWith('--'));
const unknown = names.filter((n) => !(n in BENCHES));
if (unknown.length > 0) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')}; known: ${Object.keys(BENCHES).join(', ')}`);
  process.exit(2);
}
let failed = false;
for (const name of names.length > 0 ? names : Object.keys(BENCHES)) {
  const script = fileURLToPath(new URL(BENCHES[name]!, import.meta.url));
  if (!existsSync(script)) continue;
  if (!flags.includes('--json')) console.log(`\n== ${name}`);
  const r = spawnSync(process.execPath, [script, ...flags], { stdio: 'inherit' });
  failed ||= r.status !== 0;
}
process.exit(failed ? 1 : 0);
