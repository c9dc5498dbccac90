import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCode } from '../../src/ipc/errors.js';
import type { IpcClient, IpcReply, IpcService } from '../../src/ipc/service.js';
import { GuardedService } from '../../src/runtime/guarded-service.js';
import { DecodeError } from '../../src/wire/decode-error.js';

const client: IpcClient = { id: 7, pid: 1, name: 't', push: () => true, closed: false };

function service(request: () => IpcReply | undefined): IpcService & { calls: string[] } {
  const calls: string[] = [];
  return {
    id: 9,
    name: 'x',
    calls,
    connected: () => calls.push('connected'),
    disconnected: () => {
      calls.push('disconnected');
      throw new Error('broken on disconnect');
    },
    request: () => {
      calls.push('request');
      return request();
    },
  };
}

test('a service throw becomes a fatal error of the node, not an uncaught exception', () => {
  const failures: unknown[] = [];
  const inner = service(() => {
    throw new RangeError('invariant');
  });
  const g = new GuardedService(
    inner,
    () => true,
    (e) => failures.push(e),
  );
  assert.equal(g.id, 9);
  assert.equal(
    g.request(client, 1, new Uint8Array(0), () => {}),
    undefined,
  );
  g.disconnected(client);
  assert.deepEqual(
    failures.map((e) => (e as Error).message),
    ['invariant', 'broken on disconnect'],
  );
});

test('replies pass through; a DecodeError still reaches the IPC server; nothing runs once the node stopped', () => {
  const failures: unknown[] = [];
  let usable = true;
  let mode: 'ok' | 'decode' = 'ok';
  const inner = service(() => {
    if (mode === 'decode') throw new DecodeError('truncated', 'request', 3);
    return { code: ErrorCode.OK };
  });
  const g = new GuardedService(
    inner,
    () => usable,
    (e) => failures.push(e),
  );
  assert.deepEqual(
    g.request(client, 1, new Uint8Array(0), () => {}),
    { code: ErrorCode.OK },
  );
  mode = 'decode';
  assert.throws(() => g.request(client, 1, new Uint8Array(0), () => {}), DecodeError);
  usable = false;
  g.connected(client);
  assert.equal(
    g.request(client, 1, new Uint8Array(0), () => {}),
    undefined,
  );
  assert.deepEqual(inner.calls, ['request', 'request']);
  assert.deepEqual(failures, []);
});
