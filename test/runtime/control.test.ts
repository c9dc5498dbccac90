import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ControlError, ControlServer, controlRequest } from '../../src/runtime/control.js';

const dir = mkdtempSync(join(tmpdir(), 'totem-ctl-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function raw(path: string, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(path);
    let got = '';
    s.setEncoding('utf8');
    s.on('connect', () => s.write(text));
    s.on('data', (d: string) => {
      got += d;
      if (got.split('\n').length > text.split('\n').filter((l) => l.trim()).length) {
        s.destroy();
        resolve(got);
      }
    });
    s.on('error', reject);
  });
}

test('requests are answered one JSON line each; bad requests get an error, not a crash', async () => {
  const runDir = join(dir, 'run1');
  const path = join(runDir, 'n.sock');
  const server = await ControlServer.listen(path, runDir, (req) => {
    if (req.op === 'status') return { ok: true, status: { n: 1 } };
    if (req.op === 'load') throw new RangeError('count must be an integer');
    return { ok: false, error: 'unknown op' };
  });
  try {
    assert.equal(statSync(runDir).mode & 0o777, 0o700);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.deepEqual(await controlRequest(path, { op: 'status' }), { ok: true, status: { n: 1 } });
    assert.deepEqual(await controlRequest(path, { op: 'load', count: -1, size: 1 }), {
      ok: false,
      error: 'count must be an integer',
    });
    const answers = (await raw(path, 'not json\n{"x":1}\n{"op":"status"}\n'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.deepEqual(answers, [
      { ok: false, error: 'request is not JSON' },
      { ok: false, error: 'request needs an "op"' },
      { ok: true, status: { n: 1 } },
    ]);
    // A second daemon on the same socket is refused while the first one answers.
    await assert.rejects(
      ControlServer.listen(path, runDir, () => ({ ok: true })),
      ControlError,
    );
  } finally {
    await server.close();
  }
  await assert.rejects(controlRequest(path, { op: 'status' }, 500), ControlError);
});

test('a stale socket file left by a killed daemon is replaced', async () => {
  const runDir = join(dir, 'run2');
  const path = join(runDir, 'n.sock');
  const first = await ControlServer.listen(path, runDir, () => ({ ok: true }));
  await first.close();
  writeFileSync(path, ''); // what a crash leaves: a file nobody listens on
  const second = await ControlServer.listen(path, runDir, () => ({ ok: true, second: true }));
  try {
    assert.deepEqual(await controlRequest(path, { op: 'status' }), { ok: true, second: true });
  } finally {
    await second.close();
  }
});
