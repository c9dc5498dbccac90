/**
 * The corosync.conf syntax, without any meaning attached: sections `name {` … `}`,
 * items `key: value`, full-line `#` comments, blank lines.
 *
 * What corosync accepts, and how this parser treats it:
 * - A comment is a line whose first non-blank character is `#`. A `#` later in a line is
 *   part of the value, as in corosync (`token: 3000 # ms` is the value `3000 # ms`, which
 *   the typed layer then rejects with a clear message).
 * - The key is everything before the first `:`, the value everything after it, both trimmed
 *   of spaces and tabs. IPv6 values (`ring0_addr: fd00::1`) therefore need no quoting.
 * - corosync keeps quote characters literally. We also accept a value wrapped entirely in
 *   one pair of matching quotes (`"..."` or `'...'`) and remove that pair, so that a value
 *   may start with `#` or keep edge spaces; a file meant for corosync too should not quote.
 * - CRLF line ends are accepted.
 * - Stricter than corosync: text after `{` or `}` on the same line, a line that is neither
 *   form, a missing or extra `}`, and malformed key or section names are errors (corosync
 *   silently drops such text).
 */
import { ConfigError } from './config-error.js';

export interface ConfItem {
  readonly kind: 'item';
  readonly key: string;
  readonly value: string;
  readonly line: number;
}

export interface ConfSection {
  readonly kind: 'section';
  readonly name: string;
  /** Line of `name {`; 0 for the root. */
  readonly line: number;
  readonly children: (ConfItem | ConfSection)[];
}

const NAME = /^[A-Za-z0-9_-]+$/;

/** Parses text into a tree rooted at an unnamed section. Throws ConfigError on the first syntax error. */
export function parseSyntax(text: string, file: string): ConfSection {
  const root: ConfSection = { kind: 'section', name: '', line: 0, children: [] };
  const stack: ConfSection[] = [root];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    let raw = lines[i]!;
    if (raw.endsWith('\r')) raw = raw.slice(0, -1);
    const line = trimBlanks(raw);
    if (line === '' || line.startsWith('#')) continue;
    const top = stack[stack.length - 1]!;
    const where = pathOf(stack);

    if (line.startsWith('}')) {
      const rest = trimBlanks(line.slice(1));
      if (rest !== '') {
        throw new ConfigError(file, lineNo, where, `unexpected text after '}': ${JSON.stringify(rest)}`);
      }
      if (stack.length === 1) throw new ConfigError(file, lineNo, '', `unexpected '}': no section is open`);
      stack.pop();
      continue;
    }

    const colon = line.indexOf(':');
    const brace = line.indexOf('{');
    if (brace >= 0 && (colon < 0 || brace < colon)) {
      const name = trimBlanks(line.slice(0, brace));
      const rest = trimBlanks(line.slice(brace + 1));
      if (name === '') throw new ConfigError(file, lineNo, where, `section has no name before '{'`);
      if (!NAME.test(name)) {
        throw new ConfigError(file, lineNo, where, `${JSON.stringify(name)} is not a valid section name`);
      }
      const path = where === '' ? name : `${where}.${name}`;
      if (rest !== '') {
        throw new ConfigError(
          file,
          lineNo,
          path,
          `unexpected text after '{': ${JSON.stringify(rest)} (put each item on its own line)`,
        );
      }
      const section: ConfSection = { kind: 'section', name, line: lineNo, children: [] };
      top.children.push(section);
      stack.push(section);
      continue;
    }

    if (colon >= 0) {
      const key = trimBlanks(line.slice(0, colon));
      if (key === '') throw new ConfigError(file, lineNo, where, `missing key before ':'`);
      if (!NAME.test(key))
        throw new ConfigError(file, lineNo, where, `${JSON.stringify(key)} is not a valid key`);
      const path = where === '' ? key : `${where}.${key}`;
      const value = unquote(trimBlanks(line.slice(colon + 1)), file, lineNo, path);
      top.children.push({ kind: 'item', key, value, line: lineNo });
      continue;
    }

    throw new ConfigError(
      file,
      lineNo,
      where,
      `expected "key: value", "name {" or "}", got ${JSON.stringify(line)}`,
    );
  }
  if (stack.length > 1) {
    const open = stack[stack.length - 1]!;
    throw new ConfigError(file, open.line, pathOf(stack), `section is never closed (missing '}')`);
  }
  return root;
}

function pathOf(stack: readonly ConfSection[]): string {
  return stack
    .slice(1)
    .map((s) => s.name)
    .join('.');
}

/** Spaces and tabs only, like corosync (a form feed in a value is kept). */
function trimBlanks(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && (s[start] === ' ' || s[start] === '\t')) start++;
  while (end > start && (s[end - 1] === ' ' || s[end - 1] === '\t')) end--;
  return s.slice(start, end);
}

function unquote(value: string, file: string, line: number, path: string): string {
  const first = value[0];
  if (first !== '"' && first !== "'") return value;
  if (value.length >= 2 && value[value.length - 1] === first) {
    const inner = value.slice(1, -1);
    if (!inner.includes(first)) return inner;
  }
  throw new ConfigError(
    file,
    line,
    path,
    `unbalanced quotes in value ${JSON.stringify(value)} (quote the whole value once, or not at all)`,
  );
}
