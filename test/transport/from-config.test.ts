import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { findLocalNode, parseConfig } from '../../src/config/index.js';
import { BROADCAST, type NodeId } from '../../src/core/io.js';
import { envelopeFromConfig, transportOptionsFromConfig } from '../../src/transport/from-config.js';
import { writeKeyFile } from '../../src/transport/key-file.js';
import { UdpTransport } from '../../src/transport/udp-transport.js';
import { freePorts, waitFor } from './helpers.js';

test('a corosync.conf with a key file drives two encrypted transports end to end', {
  timeout: 15_000,
}, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'totem-conf-'));
  const transports: UdpTransport[] = [];
  try {
    const keyfile = join(dir, 'authkey');
    await writeKeyFile(keyfile);
    const [p1, p2] = await freePorts(2, '127.0.0.1');
    const text = `totem {
  version: 2
  cluster_name: e2e
  crypto_cipher: aes256
  crypto_hash: sha256
  keyfile: ${keyfile}
}
nodelist {
  node {
    ring0_addr: 127.0.0.1
    ring0_port: ${p1}
    nodeid: 1
  }
  node {
    ring0_addr: 127.0.0.1
    ring0_port: ${p2}
    nodeid: 2
  }
}
`;
    const { config, warnings } = parseConfig(text, 'e2e.conf');
    assert.deepEqual(warnings, []);
    const inbox: [NodeId, NodeId, string][] = [];
    for (const id of [1, 2]) {
      const me = findLocalNode(config, { nodeId: id });
      const { envelope, warnings: keyWarnings } = await envelopeFromConfig(config, me.nodeId);
      assert.deepEqual(keyWarnings, []);
      assert.equal(envelope.cipher, 'aes256');
      const opts = transportOptionsFromConfig(config, me.nodeId, envelope, (from, payload) =>
        inbox.push([id, from, Buffer.from(payload).toString()]),
      );
      transports.push(await UdpTransport.open(opts));
    }
    transports[0]!.send(BROADCAST, Buffer.from('hello 2'));
    transports[1]!.send(1, Buffer.from('hello 1'));
    await waitFor(() => inbox.length === 2);
    assert.deepEqual(inbox.sort(), [
      [1, 2, 'hello 1'],
      [2, 1, 'hello 2'],
    ]);
  } finally {
    await Promise.all(transports.map((t) => t.close()));
    await rm(dir, { recursive: true, force: true });
  }
});
