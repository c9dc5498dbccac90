import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { LoggingConfig } from '../../src/config/types.js';
import { Logger } from '../../src/runtime/logger.js';

const dir = mkdtempSync(join(tmpdir(), 'totem-log-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function logging(over: Partial<LoggingConfig>): LoggingConfig {
  return {
    toStderr: true,
    toLogfile: false,
    logfile: undefined,
    debug: 'off',
    timestamp: 'off',
    loggerSubsys: [],
    ...over,
  };
}

test('debug off shows info and above; a subsystem can be more verbose', () => {
  const lines: string[] = [];
  const log = new Logger({
    logging: logging({ loggerSubsys: [{ subsys: 'SRP', debug: 'trace' }] }),
    stderr: (l) => lines.push(l),
  });
  log.info('MAIN', 'shown');
  log.debug('MAIN', 'hidden');
  log.debug('SRP', 'srp debug shown');
  log.log('trace', 'SRP', 'srp trace shown');
  log.log('trace', 'MAIN', 'hidden');
  assert.deepEqual(lines, [
    '[info   ] MAIN: shown\n',
    '[debug  ] SRP: srp debug shown\n',
    '[trace  ] SRP: srp trace shown\n',
  ]);
});

test('timestamps: on gives seconds, hires gives milliseconds', () => {
  const on: string[] = [];
  new Logger({ logging: logging({ timestamp: 'on' }), stderr: (l) => on.push(l) }).notice('MAIN', 'x');
  assert.match(on[0]!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \[notice \] MAIN: x\n$/);
  const hires: string[] = [];
  new Logger({ logging: logging({ timestamp: 'hires' }), stderr: (l) => hires.push(l) }).notice('MAIN', 'x');
  assert.match(hires[0]!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z /);
});

test('the log file is appended to, and reopen() after a rotation starts a new file', () => {
  const file = join(dir, 'totem.log');
  const log = new Logger({ logging: logging({ toStderr: false, toLogfile: true, logfile: file }) });
  log.notice('MAIN', 'one');
  renameSync(file, `${file}.1`);
  log.notice('MAIN', 'two (still the old file until reopened)');
  log.reopen();
  log.notice('MAIN', 'three');
  log.close();
  assert.equal(readFileSync(`${file}.1`, 'utf8').split('\n').length, 3);
  assert.equal(readFileSync(file, 'utf8'), '[notice ] MAIN: three\n');
});
