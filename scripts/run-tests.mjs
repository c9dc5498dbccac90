#!/usr/bin/env node
// Runs every compiled *.test.js under dist/test with node's test runner.
// (Node 20 treats every file under a `test` directory as a test when given a directory,
// which would also run fixtures and helpers; its --test does not expand globs.)
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

function find(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return find(path);
    return e.name.endsWith('.test.js') ? [path] : [];
  });
}

const only = process.argv.slice(2);
const files = find('dist/test')
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();
if (files.length === 0) {
  console.error('run-tests: no test files found');
  process.exit(1);
}
// Property tests share one fixed seed unless TOTEM_FC_SEED says otherwise (test/support/fast-check-seed.ts).
const preload = ['--import', './dist/test/support/fast-check-seed.js'];
const r = spawnSync(process.execPath, [...preload, '--test', '--test-concurrency=2', ...files], {
  stdio: 'inherit',
});
process.exit(r.status ?? 1);
