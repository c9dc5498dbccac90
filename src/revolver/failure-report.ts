/** The README a failed revolver run leaves next to its rings, logs and seed. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RevolverResult } from './revolver.js';

export function failureCommands(r: RevolverResult, rerun: string): string[] {
  const rings = r.ringDirs.join(' ');
  return [
    `npx totem fplay check ${rings}`,
    `npx totem fplay --last 200 ${rings}`,
    `less ${join(r.dir, 'node-*.log')}`,
    rerun,
  ];
}

export function writeFailureReadme(r: RevolverResult, rerun: string): string {
  const f = r.failure;
  if (!f) throw new Error('writeFailureReadme: the run did not fail');
  const path = join(r.dir, 'README.md');
  const cmds = failureCommands(r, rerun);
  const text = [
    '# Revolver failure',
    '',
    f.phase === 'final check'
      ? `Seed ${r.seed}; failed in the final check, after ${r.iterationsDone} clean iteration(s) and ${r.kills} kill(s) and a stop of every daemon.`
      : `Seed ${r.seed}; failed in iteration ${f.iteration} (${f.phase}) after ${r.iterationsDone} clean iteration(s) and ${r.kills} kill(s).`,
    f.plan && f.phase !== 'final check'
      ? `That iteration killed node(s) ${f.plan.victims.join(', ')}` +
        (f.plan.staggerMs > 0 ? `, ${f.plan.staggerMs} ms apart` : '') +
        (f.plan.earlyRestartMs !== undefined
          ? `, restarting them ${f.plan.earlyRestartMs} ms after the last kill (during the survivors' membership change)`
          : ', restarting them once the survivors formed their ring') +
        '.'
      : '',
    '',
    '## Findings',
    '',
    ...f.findings.map((x) => `- ${x}`),
    '',
    '## What is here',
    '',
    '- `state/rings/`: flight-recorder rings of the last daemons (live `fr-*`, killed `fdata-*`)',
    '- `rings-killed/wNNNN/`: rings of killed daemons, by check window',
    '- `node-N.log`, `node-N.out`: daemon logs and stdout/stderr; `node-N.conf`: configurations',
    '- `lock-log.jsonl` (plock load): every lock the clients held, from grant heard to unlock sent',
    '',
    '## Inspect',
    '',
    '```sh',
    ...cmds,
    '```',
    '',
  ].join('\n');
  writeFileSync(path, text);
  writeFileSync(join(r.dir, 'SEED'), `${r.seed}\n`);
  return path;
}
