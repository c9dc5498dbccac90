/**
 * Errors and warnings of the configuration loader.
 *
 * Every message names the file, the line (when one line is to blame) and the dotted key,
 * so that a user can go straight to the mistake:
 *   corosync.conf:12: totem.token: expected a positive integer (ms), got "fast"
 */

/** Where in which file something was written. `line` is 1-based; 0 means "not one line". */
export interface ConfigPlace {
  readonly file: string;
  readonly line: number;
}

export function placeText(place: ConfigPlace): string {
  return place.line > 0 ? `${place.file}:${place.line}` : place.file;
}

/** A configuration that cannot be used. The message is exact and stable (tests match it). */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  /** Every error found in the file, in file order; the first one is this error itself. */
  errors: readonly ConfigError[] = [this];

  constructor(
    readonly file: string,
    readonly line: number,
    /** Dotted key (`totem.token`, `nodelist.node.nodeid`), a section path, or '' for a bare syntax error. */
    readonly key: string,
    /** The human part after the key. */
    readonly detail: string,
  ) {
    super(formatMessage(file, line, key, detail));
  }
}

/** Something a user should know about that does not stop the configuration from loading. */
export interface ConfigWarning {
  readonly file: string;
  readonly line: number;
  readonly key: string;
  readonly detail: string;
  /** `file:line: key: detail`, the same shape as an error message. */
  readonly message: string;
}

export function warning(file: string, line: number, key: string, detail: string): ConfigWarning {
  return { file, line, key, detail, message: formatMessage(file, line, key, detail) };
}

function formatMessage(file: string, line: number, key: string, detail: string): string {
  const where = placeText({ file, line });
  return key === '' ? `${where}: ${detail}` : `${where}: ${key}: ${detail}`;
}
