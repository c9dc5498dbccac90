import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, parseConfig } from '../../src/config/index.js';

const base = [
  'totem {',
  '  version: 2',
  '  cluster_name: test',
  '}',
  'nodelist {',
  '  node {',
  '    ring0_addr: 10.0.0.1',
  '    nodeid: 1',
  '  }',
  '}',
];

test('plock { ownership } is on, off, or absent (off)', () => {
  assert.equal(parseConfig(base.join('\n')).config.plock?.ownership, false);
  assert.equal(
    parseConfig([...base, 'plock {', '  ownership: on', '}'].join('\n')).config.plock?.ownership,
    true,
  );
  assert.equal(
    parseConfig([...base, 'plock {', '  ownership: off', '}'].join('\n')).config.plock?.ownership,
    false,
  );
});

test('a bad plock value is an error on its exact line; an unknown key a warning', () => {
  const text = [...base, 'plock {', '  ownership: maybe', '}'].join('\n');
  let err: unknown;
  try {
    parseConfig(text, 'c.conf');
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof ConfigError);
  assert.match(err.message, /c\.conf:12/);
  assert.match(err.message, /plock\.ownership/);
  const warned = parseConfig([...base, 'plock {', '  owner: on', '}'].join('\n'));
  assert.ok(warned.warnings.some((w) => w.line === 12 && /plock\.owner/.test(`${w.key} ${w.message}`)));
});
