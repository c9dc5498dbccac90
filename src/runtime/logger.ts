/**
 * The daemon's log: levels, per-subsystem verbosity, stderr and/or a log file, as the
 * configuration's logging section says. SIGHUP reopens the file (log rotation).
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import type { DebugLevel, LoggingConfig, TimestampMode } from '../config/types.js';

export const LOG_LEVELS = ['error', 'warning', 'notice', 'info', 'debug', 'trace'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const RANK: Record<LogLevel, number> = { error: 0, warning: 1, notice: 2, info: 3, debug: 4, trace: 5 };
/** The most verbose level shown for each `debug:` setting. */
const THRESHOLD: Record<DebugLevel, number> = { off: RANK.info, on: RANK.debug, trace: RANK.trace };

export interface LoggerOptions {
  readonly logging: LoggingConfig;
  /** Where stderr lines go (tests capture them); default process.stderr. */
  readonly stderr?: (line: string) => void;
}

export class Logger {
  private fd: number | undefined;
  private readonly threshold: number;
  private readonly subsysThreshold = new Map<string, number>();
  private readonly timestamp: TimestampMode;
  private readonly toStderr: boolean;
  private readonly logfile: string | undefined;
  private readonly stderr: (line: string) => void;
  /** Lines that could not be written to the file (disk full, file removed without SIGHUP). */
  writeErrors = 0;

  constructor(opts: LoggerOptions) {
    const l = opts.logging;
    this.threshold = THRESHOLD[l.debug];
    for (const s of l.loggerSubsys) this.subsysThreshold.set(s.subsys.toUpperCase(), THRESHOLD[s.debug]);
    this.timestamp = l.timestamp;
    this.toStderr = l.toStderr;
    this.logfile = l.toLogfile ? l.logfile : undefined;
    this.stderr = opts.stderr ?? ((line) => process.stderr.write(line));
    this.open();
  }

  enabled(level: LogLevel, subsys: string): boolean {
    return RANK[level] <= (this.subsysThreshold.get(subsys) ?? this.threshold);
  }

  log(level: LogLevel, subsys: string, message: string): void {
    if (!this.enabled(level, subsys)) return;
    const line = `${this.stamp()}[${level.padEnd(7)}] ${subsys}: ${message}\n`;
    if (this.toStderr) this.stderr(line);
    if (this.fd !== undefined) {
      try {
        writeSync(this.fd, line);
      } catch {
        this.writeErrors++;
      }
    }
  }

  error(subsys: string, message: string): void {
    this.log('error', subsys, message);
  }
  warning(subsys: string, message: string): void {
    this.log('warning', subsys, message);
  }
  notice(subsys: string, message: string): void {
    this.log('notice', subsys, message);
  }
  info(subsys: string, message: string): void {
    this.log('info', subsys, message);
  }
  debug(subsys: string, message: string): void {
    this.log('debug', subsys, message);
  }

  /** Closes and opens the log file again (after logrotate moved it). */
  reopen(): void {
    this.close();
    this.open();
  }

  close(): void {
    if (this.fd !== undefined) {
      try {
        closeSync(this.fd);
      } catch {
        // Already closed.
      }
      this.fd = undefined;
    }
  }

  private open(): void {
    if (this.logfile === undefined) return;
    this.fd = openSync(this.logfile, 'a', 0o640);
  }

  private stamp(): string {
    if (this.timestamp === 'off') return '';
    const iso = new Date().toISOString();
    return `${this.timestamp === 'hires' ? iso : `${iso.slice(0, 19)}Z`} `;
  }
}
