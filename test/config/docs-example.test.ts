import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { parseConfig } from '../../src/config/index.js';

// dist/test/config → the repository root is three levels up.
const DOC = new URL('../../../docs/config.md', import.meta.url);

test('the example in docs/config.md loads without warnings and means what the text says', async () => {
  const md = await readFile(DOC, 'utf8');
  const block = /## Example\n\n```\n([\s\S]*?)```/.exec(md);
  assert.ok(block, 'docs/config.md has an Example code block');
  const { config, warnings } = parseConfig(block[1]!, 'totem.conf');
  assert.deepEqual(warnings, []);
  assert.equal(config.totem.token, 3650);
  assert.equal(config.totem.consensus, 4380);
  assert.equal(config.totem.cryptoCipher, 'aes256');
  assert.deepEqual(
    config.nodelist.map((n) => n.name),
    ['alpha', 'beta', 'gamma'],
  );
});
