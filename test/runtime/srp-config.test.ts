import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfig } from '../../src/config/load.js';
import { Recorder } from '../../src/recorder/recorder.js';
import { srpConfigFromTotem } from '../../src/runtime/srp-config.js';
import { SrpNode } from '../../src/srp/srp-node.js';

const TEXT = `totem {
  version: 2
  cluster_name: t
  token: 300
  token_coefficient: 0
  join: 40
  merge: 150
  window_size: 80
  max_messages: 20
  miss_count_const: 7
  seqno_unchanged_const: 11
  fail_recv_const: 900
}
nodelist {
  node {
    ring0_addr: 127.0.0.1
    nodeid: 1
  }
}
`;

test('every timing of the totem section reaches srp; netMtu leaves room for the envelope', () => {
  const { config } = parseConfig(TEXT, 't.conf');
  const t = config.totem;
  const transportMaxPayload = 1500 - 20 - 8 - 36; // IPv4, sealed envelope
  const c = srpConfigFromTotem(config, transportMaxPayload);
  assert.deepEqual(
    [c.token, c.tokenRetransmit, c.hold, c.join, c.consensus, c.merge],
    [300, t.tokenRetransmit, t.hold, 40, t.consensus, 150],
  );
  assert.deepEqual(
    [c.windowSize, c.maxMessages, c.missCountConst, c.seqnoUnchangedConst, c.failRecvConst],
    [80, 20, 7, 11, 900],
  );
  assert.equal(c.consensus, 360);
  assert.equal(c.netMtu, transportMaxPayload + 28);
  const host = { send() {}, setTimer() {}, cancelTimer() {}, persistRingSeq() {} };
  const listener = { deliver() {}, configurationChange() {}, tokenVisit() {} };
  const node = new SrpNode({ nodeId: 1, config: c, host, listener, recorder: new Recorder({ slots: 64 }) });
  // srp's largest frame, wrapped for recovery, still fits the transport's payload.
  assert.ok(node.maxPayload > 1000 && node.maxPayload < transportMaxPayload);
});
