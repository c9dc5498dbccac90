/**
 * `totem daemon -c FILE [--node-id N]`: runs one node in the foreground until a signal.
 *
 * SIGTERM / SIGINT: graceful leave (the others re-form at once), exit 0.
 * SIGHUP: reopen the log file.  SIGUSR2: dump the flight recorder (path in the log).
 * A protocol invariant failure: recorded, logged, exit 70 (EX_SOFTWARE).
 */
import { unlinkSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigError } from '../config/config-error.js';
import { loadConfigFile } from '../config/load.js';
import { findLocalNode } from '../config/local-node.js';
import type { TotemConfig } from '../config/types.js';
import type { ControlRequest, ControlResponse } from '../runtime/control.js';
import { ControlServer } from '../runtime/control.js';
import { Logger } from '../runtime/logger.js';
import { NodeRuntime } from '../runtime/node-runtime.js';
import { nodePaths } from '../runtime/paths.js';

const USAGE = `usage: totem daemon -c FILE [--node-id N]

Runs one Totem node in the foreground (use 'totem cluster up' for a local test cluster).

options:
  -c, --config FILE   configuration (corosync.conf syntax, see docs/config.md)
  --node-id N         which node of the node list this is (needed when several
                      ring0_addr are addresses of this host)

signals: TERM/INT leave the ring and exit 0, HUP reopens the log file,
USR2 dumps the flight recorder. Status: 'totem status -c FILE'.
Environment: TOTEM_TEST_PARTITION=1 enables the test-only partition request.
`;

/** Exit status when a protocol core broke an invariant (sysexits EX_SOFTWARE). */
export const EXIT_INTERNAL = 70;
const EXIT_CONFIG = 78;

export async function run(args: string[]): Promise<number> {
  let values: { config?: string; 'node-id'?: string; nodeid?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args,
      options: {
        config: { type: 'string', short: 'c' },
        'node-id': { type: 'string' },
        nodeid: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    process.stderr.write(`totem daemon: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (!values.config) {
    process.stderr.write(`totem daemon: -c FILE is required\n\n${USAGE}`);
    return 2;
  }
  const idText = values['node-id'] ?? values.nodeid;
  const requestedId = idText === undefined ? undefined : Number(idText);
  if (requestedId !== undefined && !(Number.isInteger(requestedId) && requestedId > 0)) {
    process.stderr.write(`totem daemon: --node-id must be a positive integer, got ${idText}\n`);
    return 2;
  }

  let config: TotemConfig;
  let nodeId: number;
  let logger: Logger;
  try {
    const loaded = await loadConfigFile(values.config);
    config = loaded.config;
    nodeId = findLocalNode(config, requestedId === undefined ? {} : { nodeId: requestedId }).nodeId;
    logger = new Logger({ logging: config.logging });
    for (const w of loaded.warnings) logger.warning('CONFIG', w.message);
  } catch (err) {
    if (err instanceof ConfigError || (err as NodeJS.ErrnoException).code !== undefined) {
      process.stderr.write(`totem daemon: ${(err as Error).message}\n`);
      return EXIT_CONFIG;
    }
    throw err;
  }
  return runNode(config, nodeId, logger);
}

async function runNode(config: TotemConfig, nodeId: number, logger: Logger): Promise<number> {
  const paths = nodePaths(config, nodeId);
  let exiting = false;
  let finish!: (code: number) => void;
  const done = new Promise<number>((resolve) => {
    finish = resolve;
  });

  let runtime: NodeRuntime;
  try {
    runtime = await NodeRuntime.start({
      config,
      nodeId,
      logger,
      testPartition: process.env.TOTEM_TEST_PARTITION === '1',
      onFatal: () => {
        // The core's state can no longer be trusted: stop now, loudly; the ring is on disk.
        exiting = true;
        finish(EXIT_INTERNAL);
      },
    });
  } catch (err) {
    logger.error('MAIN', `cannot start node ${nodeId}: ${(err as Error).message}`);
    logger.close();
    return 1;
  }

  let control: ControlServer;
  try {
    control = await ControlServer.listen(paths.socket, paths.runDir, (req) => handle(runtime, req));
  } catch (err) {
    logger.error('MAIN', `cannot open the control socket: ${(err as Error).message}`);
    await runtime.close('control socket failed');
    logger.close();
    return 1;
  }
  writeFileSync(paths.pidFile, `${process.pid}\n`, { mode: 0o600 });
  logger.notice('MAIN', `control socket ${paths.socket}, pid ${process.pid}`);

  const leave = (signal: string): void => {
    runtime.recordSignal(signal);
    if (exiting) return;
    exiting = true;
    logger.notice('MAIN', `${signal}: leaving the ring`);
    runtime.leave().then(
      () => finish(0),
      (err) => {
        logger.error('MAIN', `leave failed: ${(err as Error).message}`);
        finish(1);
      },
    );
  };
  const onTerm = (): void => leave('SIGTERM');
  const onInt = (): void => leave('SIGINT');
  const onHup = (): void => {
    runtime.recordSignal('SIGHUP');
    logger.reopen();
    logger.notice('MAIN', 'SIGHUP: log file reopened');
  };
  const onUsr2 = (): void => {
    // The recorder's own hook writes the dump; this only says so in the log.
    runtime.recordSignal('SIGUSR2');
    logger.notice('MAIN', 'SIGUSR2: flight recorder dumped next to the live ring');
  };
  process.on('SIGTERM', onTerm);
  process.on('SIGINT', onInt);
  process.on('SIGHUP', onHup);
  process.on('SIGUSR2', onUsr2);

  const code = await done;
  process.off('SIGTERM', onTerm);
  process.off('SIGINT', onInt);
  process.off('SIGHUP', onHup);
  process.off('SIGUSR2', onUsr2);
  await control.close();
  if (code !== 0) await runtime.close(`exit ${code}`);
  try {
    unlinkSync(paths.pidFile);
  } catch {
    // Already gone.
  }
  logger.notice('MAIN', `node ${nodeId} stopped (exit ${code})`);
  logger.close();
  // Anything still pending (a slow socket close) must not keep a stopped node alive.
  setTimeout(() => process.exit(code), 50).unref();
  return code;
}

function handle(runtime: NodeRuntime, req: ControlRequest): ControlResponse {
  switch (req.op) {
    case 'status':
      return { ok: true, status: runtime.status() };
    case 'load': {
      runtime.queueLoad(Number(req.count), Number(req.size), req.safe === true);
      return { ok: true };
    }
    case 'partition': {
      const groups = req.groups;
      if (groups !== null && !(Array.isArray(groups) && groups.every((g) => Array.isArray(g))))
        return { ok: false, error: 'groups must be a list of node-id lists, or null' };
      runtime.setPartition(groups === null ? null : groups.map((g) => g.map(Number)));
      return { ok: true };
    }
    case 'load-reset':
      runtime.resetLoadRing();
      return { ok: true };
    case 'dump':
      return { ok: true, path: runtime.dumpRecorder() };
    case 'digest':
      return { ok: true, digest: runtime.replicaDigest() };
    default:
      return { ok: false, error: `unknown op ${JSON.stringify((req as { op: unknown }).op)}` };
  }
}
