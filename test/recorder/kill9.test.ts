import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { EV } from '../../src/recorder/events/index.js';
import { readRing } from '../../src/recorder/reader.js';

const CHILD = fileURLToPath(new URL('./fixtures/kill-child.js', import.meta.url));
const ROUNDS = 50;

/** A small seeded generator so that a failing round can be replayed. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

async function killedRecording(dir: string, delayMs: number): Promise<{ path: string; lastAck: number }> {
  const child = spawn(process.execPath, [CHILD, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  let buffered = '';
  let path = '';
  let lastAck = 0;
  let killTimer: NodeJS.Timeout | undefined;
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const hardStop = setTimeout(() => child.kill('SIGKILL'), 10_000);
  child.stdout.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop()!;
    for (const line of lines) {
      if (line.startsWith('ready ')) {
        path = line.slice(6);
        killTimer = setTimeout(() => child.kill('SIGKILL'), delayMs);
      } else if (line && !child.killed) lastAck = Number(line);
    }
  });
  await exited;
  clearTimeout(hardStop);
  clearTimeout(killTimer);
  return { path, lastAck };
}

test(`kill -9 at a random moment, ${ROUNDS} times: the ring holds an unbroken run up to the last acknowledged record`, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'totem-kill9-'));
  const random = lcg(4242);
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const delay = 5 + Math.floor(random() * 60);
      const { path, lastAck } = await killedRecording(dir, delay);
      assert.ok(path, `round ${round}: child never became ready`);
      const img = readRing(readFileSync(path), path);
      const { records } = img;
      assert.ok(records.count > 0, `round ${round}: no records`);
      assert.deepEqual(img.gaps, [], `round ${round} (delay ${delay} ms): gaps inside the run`);
      for (let i = 1; i < records.count; i++) {
        assert.equal(records.seq[i], records.seq[i - 1]! + 1, `round ${round}: sequence broken at ${i}`);
      }
      for (let i = 0; i < records.count; i++) {
        if (records.event[i] !== EV.REC_MARK) continue;
        const a = records.args.subarray(i * 8, i * 8 + 4);
        assert.equal(a[2], Math.imul(a[1]!, 3), `round ${round}: record ${records.seq[i]} is torn`);
        assert.equal(a[3], ~a[1]!, `round ${round}: record ${records.seq[i]} is torn`);
      }
      const head = records.seq[records.count - 1]!;
      assert.ok(head >= lastAck, `round ${round}: ring ends at ${head}, before the acknowledged ${lastAck}`);
      assert.equal(img.header?.closed, false);
      rmSync(path);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
