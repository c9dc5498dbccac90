/** The subcommands of `totem`: name, one-line summary, and a lazy loader. */
export interface CommandModule {
  run(args: string[]): Promise<number>;
}

export interface Command {
  readonly name: string;
  readonly summary: string;
  load(): Promise<CommandModule>;
}

export const COMMANDS: readonly Command[] = [
  {
    name: 'fplay',
    summary: 'replay flight-recorder rings (merge, filter, check, export to Chrome trace)',
    load: () => import('./fplay-command.js'),
  },
  {
    name: 'keygen',
    summary: 'write a random shared key for packet encryption (mode 0400)',
    load: () => import('./keygen-command.js'),
  },
  {
    name: 'daemon',
    summary: 'run one node (SIGTERM leaves the ring; see docs/daemon.md)',
    load: () => import('./daemon-command.js'),
  },
  {
    name: 'status',
    summary: 'ask running daemons for their state, ring, members and counters',
    load: () => import('./status-command.js'),
  },
  {
    name: 'cluster',
    summary: 'start (up N) or stop (down) a local cluster of daemons on 127.0.0.1',
    load: () => import('./cluster-command.js'),
  },
  {
    name: 'cpg',
    summary: 'closed process groups: join (print messages), send, groups, members',
    load: () => import('./cpg-command.js'),
  },
  {
    name: 'ckpt',
    summary: 'checkpoints: ls, create, write, read, rm, sections, status',
    load: () => import('./ckpt-command.js'),
  },
  {
    name: 'plock',
    summary: 'cluster-wide POSIX locks: lock (and hold), unlock, test, list',
    load: () => import('./plock-command.js'),
  },
  {
    name: 'start',
    summary: 'the main job: a local cluster with a message load and a live view (npm start)',
    load: () => import('./start-command.js'),
  },
  {
    name: 'revolver',
    summary: 'kill -9 random daemons of a local cluster under load, over and over, checking everything',
    load: () => import('./revolver-command.js'),
  },
  {
    name: 'sim',
    summary: 'deterministic simulation: seeds, faults, invariant checks, sweeps, scenarios',
    load: () => import('./sim-command.js'),
  },
  {
    name: 'demo',
    summary: 'a short flight-recorder demonstration (what `npm start` runs for now)',
    load: () => import('./demo-command.js'),
  },
];
