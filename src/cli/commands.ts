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
