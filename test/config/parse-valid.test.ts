import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  ConfigError,
  defaultMcastAddr,
  findLocalNode,
  parseConfig,
  resolveTimings,
  timingProblems,
} from '../../src/config/index.js';

const twoNodes = `totem {
  version: 2
  cluster_name: alpha
}
nodelist {
  node {
    ring0_addr: 10.0.0.1
    nodeid: 1
  }
  node {
    ring0_addr: 10.0.0.2
    nodeid: 2
  }
}
`;

test('defaults: whitetank timings and corosync derivations', () => {
  const { config, warnings } = parseConfig(twoNodes);
  assert.deepEqual(warnings, []);
  const t = config.totem;
  assert.equal(t.token, 1000);
  assert.equal(t.tokenBase, 1000);
  assert.equal(t.tokenRetransmit, 238);
  assert.equal(t.hold, 180);
  assert.equal(t.consensus, 1200);
  assert.equal(t.join, 50);
  assert.equal(t.sendJoin, 0);
  assert.equal(t.merge, 200);
  assert.equal(t.downcheck, 1000);
  assert.equal(t.failRecvConst, 2500);
  assert.equal(t.seqnoUnchangedConst, 30);
  assert.equal(t.missCountConst, 5);
  assert.equal(t.maxNetworkDelay, 50);
  assert.equal(t.windowSize, 50);
  assert.equal(t.maxMessages, 17);
  assert.equal(t.netmtu, 1500);
  assert.equal(t.transport, 'udpu');
  assert.equal(t.cryptoCipher, 'none');
  assert.equal(t.mcastport, 5405);
  assert.equal(t.ipVersion, 'ipv4');
  assert.equal(config.logging.toStderr, true);
  assert.equal(config.logging.toLogfile, false);
  assert.equal(config.runtime.stateDir, '/var/lib/totem');
  assert.deepEqual(
    config.nodelist.map((n) => [n.nodeId, n.ring0Addr, n.port, n.name]),
    [
      [1, '10.0.0.1', 5405, 'node1'],
      [2, '10.0.0.2', 5405, 'node2'],
    ],
  );
});

test('token_coefficient applies from three nodes and feeds the derived timeouts', () => {
  const three = twoNodes.replace(
    'nodelist {',
    'nodelist {\n  node {\n    ring0_addr: 10.0.0.3\n    nodeid: 3\n  }',
  );
  const { config } = parseConfig(three.replace('cluster_name: alpha', 'cluster_name: alpha\n  token: 3000'));
  assert.equal(config.totem.tokenBase, 3000);
  assert.equal(config.totem.token, 3650);
  assert.equal(config.totem.consensus, 4380);
  assert.equal(config.totem.tokenRetransmit, 869);
  const off = parseConfig(
    three.replace('cluster_name: alpha', 'cluster_name: alpha\n  token_coefficient: 0'),
  );
  assert.equal(off.config.totem.token, 1000);
});

test('resolveTimings: coefficient only with 3 or more nodes; the default consensus always obeys the rule', () => {
  assert.equal(resolveTimings({}, 2).token, 1000);
  assert.equal(resolveTimings({}, 5).token, 1000 + 3 * 650);
  fc.assert(
    fc.property(fc.integer({ min: 250, max: 100_000 }), fc.integer({ min: 1, max: 64 }), (token, nodes) => {
      const t = resolveTimings({ token }, nodes);
      assert.ok(t.consensus * 5 >= t.token * 6);
      assert.deepEqual(timingProblems(t, new Set(['token'])), []);
    }),
  );
});

test('written values win over derived ones', () => {
  const { config } = parseConfig(
    twoNodes.replace(
      'cluster_name: alpha',
      'cluster_name: alpha\n  token_retransmit: 300\n  hold: 100\n  consensus: 5000',
    ),
  );
  assert.equal(config.totem.tokenRetransmit, 300);
  assert.equal(config.totem.hold, 100);
  assert.equal(config.totem.consensus, 5000);
});

test('unknown and unused keys produce warnings with file:line, never silence', () => {
  const text = `totem {
  version: 2
  cluster_name: alpha
  tokne: 5
  secauth: on
  token: 1000
  token: 2000
  interface {
    ringnumber: 0
    bindnetaddr: 10.0.0.0
  }
}
nodelist {
  node {
    ring0_addr: 10.0.0.1
    nodeid: 1
    ring1_addr: 10.1.0.1
    quorum_votes: 1
  }
}
quorum {
  provider: corosync_votequorum
}
frobnicate {
  x: 1
}
logging {
  to_syslog: yes
}
`;
  const { config, warnings } = parseConfig(text, 'c.conf');
  assert.equal(config.totem.token, 2000);
  assert.deepEqual(
    warnings.map((w) => w.message),
    [
      'c.conf:4: totem.tokne: unknown key; ignored (did you mean "token"?)',
      'c.conf:5: totem.secauth: corosync option not used by totem; ignored',
      'c.conf:7: totem.token: set again (first at line 6); the last value wins',
      'c.conf:10: totem.interface.bindnetaddr: corosync option not used by totem; ignored',
      'c.conf:17: nodelist.node.ring1_addr: redundant rings are not supported; ignored',
      'c.conf:18: nodelist.node.quorum_votes: corosync option not used by totem; ignored',
      'c.conf:21: quorum: corosync section not used by totem; ignored',
      'c.conf:24: frobnicate: unknown section; its contents are ignored',
      'c.conf:28: logging.to_syslog: corosync option not used by totem; ignored',
    ],
  );
  assert.equal(warnings[0]!.line, 4);
  assert.equal(warnings[0]!.key, 'totem.tokne');
});

test('a missing version is a warning; repeated sections merge with a warning', () => {
  const text =
    'totem {\n  cluster_name: a\n}\ntotem {\n  token: 2000\n}\nnodelist {\n node {\n  ring0_addr: 10.0.0.1\n }\n}\n';
  const { config, warnings } = parseConfig(text);
  assert.equal(config.totem.token, 2000);
  assert.equal(config.totem.clusterName, 'a');
  assert.deepEqual(
    warnings.map((w) => w.message),
    [
      'corosync.conf:1: totem.version: not set; assuming 2',
      'corosync.conf:4: totem: section appears again (first at line 1); their contents are merged',
    ],
  );
});

test('syntax: comments, blank lines, CRLF, tabs, quotes, colons in values', () => {
  const text = [
    '# a comment',
    '\t# an indented comment',
    '',
    'totem {\t',
    '\tversion:\t2',
    "  cluster_name: '  spaced # name  '",
    '  interface{',
    '    mcastport:5407',
    '  }',
    '}',
    'nodelist {',
    '  node {',
    '    ring0_addr: FD00:0:0::1',
    '    nodeid: 9',
    '    name: "n9"',
    '  }',
    '}',
    'logging {',
    '  logfile: /var/log/a:b.log',
    '}',
  ].join('\r\n');
  const { config, warnings } = parseConfig(text);
  assert.deepEqual(warnings, []);
  assert.equal(config.totem.clusterName, '  spaced # name  ');
  assert.equal(config.totem.mcastport, 5407);
  assert.equal(config.totem.ipVersion, 'ipv6');
  assert.deepEqual(
    config.nodelist.map((n) => [n.nodeId, n.ring0Addr, n.port, n.name]),
    [[9, 'fd00::1', 5407, 'n9']],
  );
  assert.equal(config.logging.logfile, '/var/log/a:b.log');
});

test('a missing IPv4 nodeid is the address read as a big-endian u32, as in corosync', () => {
  const { config } = parseConfig(
    'totem {\n version: 2\n}\nnodelist {\n node {\n  ring0_addr: 10.0.0.1\n }\n}\n',
  );
  assert.equal(config.nodelist[0]!.nodeId, 0x0a000001);
});

test('multicast: generated group per cluster name, or the written one', () => {
  const udp = twoNodes.replace('cluster_name: alpha', 'cluster_name: alpha\n  transport: udp');
  const { config } = parseConfig(udp);
  assert.equal(config.totem.mcastaddr, defaultMcastAddr('alpha', 'ipv4'));
  assert.match(config.totem.mcastaddr, /^239\.192\.\d+\.\d+$/);
  assert.notEqual(defaultMcastAddr('alpha', 'ipv4'), defaultMcastAddr('beta', 'ipv4'));
  assert.match(defaultMcastAddr('alpha', 'ipv6'), /^ff15::/);
  const written = parseConfig(
    udp.replace('transport: udp', 'transport: udp\n  interface {\n    mcastaddr: 239.1.2.3\n    ttl: 4\n  }'),
  );
  assert.equal(written.config.totem.mcastaddr, '239.1.2.3');
  assert.equal(written.config.totem.ttl, 4);
  const unused = parseConfig(
    twoNodes.replace('cluster_name: alpha', 'cluster_name: alpha\n  mcastaddr: 239.1.2.3'),
  );
  assert.deepEqual(
    unused.warnings.map((w) => w.message),
    ['corosync.conf:4: totem.mcastaddr: used only with transport: udp; ignored'],
  );
});

test('crypto settings and runtime paths', () => {
  const text = twoNodes
    .replace(
      'cluster_name: alpha',
      'cluster_name: alpha\n  crypto_cipher: chacha20\n  crypto_hash: sha256\n  keyfile: /etc/totem/k',
    )
    .concat(
      'runtime {\n  state_dir: /tmp/s\n  run_dir: /tmp/r\n  recv_buffer: 65536\n}\nsystem {\n  state_dir: /tmp/other\n}\n',
    );
  const { config, warnings } = parseConfig(text);
  assert.equal(config.totem.cryptoCipher, 'chacha20');
  assert.equal(config.totem.cryptoHash, 'sha256');
  assert.equal(config.totem.keyfile, '/etc/totem/k');
  assert.equal(config.runtime.stateDir, '/tmp/s');
  assert.equal(config.runtime.runDir, '/tmp/r');
  assert.equal(config.runtime.recvBuffer, 65536);
  assert.deepEqual(
    warnings.map((w) => w.message),
    ['corosync.conf:24: system.state_dir: runtime.state_dir (line 19) is used instead'],
  );
  const corosyncStyle = parseConfig(`${twoNodes}system {\n  state_dir: /var/lib/x\n}\n`);
  assert.equal(corosyncStyle.config.runtime.stateDir, '/var/lib/x');
});

test('logging section', () => {
  const { config } = parseConfig(
    `${twoNodes}logging {\n  to_stderr: no\n  to_logfile: on\n  logfile: /var/log/totem.log\n  debug: trace\n  timestamp: hires\n  logger_subsys {\n    subsys: SRP\n    debug: on\n  }\n  logger_subsys {\n    subsys: PG\n  }\n}\n`,
  );
  assert.deepEqual(config.logging, {
    toStderr: false,
    toLogfile: true,
    logfile: '/var/log/totem.log',
    debug: 'trace',
    timestamp: 'hires',
    loggerSubsys: [
      { subsys: 'SRP', debug: 'on' },
      { subsys: 'PG', debug: 'trace' },
    ],
  });
});

test('findLocalNode: by explicit id, by host address, or a clear error', () => {
  const { config } = parseConfig(twoNodes);
  assert.equal(findLocalNode(config, { nodeId: 2 }).ring0Addr, '10.0.0.2');
  assert.equal(findLocalNode(config, { localAddresses: ['127.0.0.1', '10.0.0.1'] }).nodeId, 1);
  assert.throws(
    () => findLocalNode(config, { nodeId: 5 }),
    (e: unknown) =>
      e instanceof ConfigError &&
      e.message === 'corosync.conf: nodelist: node id 5 is not in the node list (configured: 1, 2)',
  );
  assert.throws(
    () => findLocalNode(config, { localAddresses: ['192.168.1.1'] }),
    (e: unknown) =>
      e instanceof ConfigError &&
      e.message ===
        "corosync.conf: nodelist: no node's ring0_addr is an address of this host (this host has 192.168.1.1); choose one with --nodeid",
  );
  assert.throws(
    () => findLocalNode(config, { localAddresses: ['10.0.0.1', '10.0.0.2'] }),
    (e: unknown) =>
      e instanceof ConfigError &&
      e.message ===
        'corosync.conf: nodelist: several nodes have addresses of this host: 1 (line 6), 2 (line 10); choose one with --nodeid',
  );
});

test('property: arbitrary text either loads or throws ConfigError, nothing else', () => {
  const pieces = fc.constantFrom(
    'totem {',
    'nodelist {',
    'node {',
    '}',
    'token: 1000',
    'token: x',
    'ring0_addr: 10.0.0.1',
    'ring0_addr: ::1',
    'nodeid: 3',
    'nodeid: 0',
    '# c',
    '',
    ': v',
    'a b',
    '"',
    'consensus: 10',
    'transport: udp',
    'logging {',
    'to_logfile: yes',
  );
  fc.assert(
    fc.property(fc.array(fc.oneof(pieces, fc.string({ maxLength: 12 })), { maxLength: 30 }), (lines) => {
      try {
        const r = parseConfig(lines.join('\n'));
        assert.ok(r.config.nodelist.length > 0);
      } catch (err) {
        assert.ok(err instanceof ConfigError, String(err));
        assert.match(err.message, /^corosync\.conf(:\d+)?: /);
      }
    }),
    { numRuns: 500 },
  );
});

test('a file with only a node list loads with defaults and one warning', () => {
  const { config, warnings } = parseConfig(
    'nodelist {\n  node {\n    ring0_addr: 10.0.0.1\n    nodeid: 1\n  }\n}\n',
  );
  assert.equal(config.totem.token, 1000);
  assert.deepEqual(
    warnings.map((w) => w.message),
    ['corosync.conf: totem: missing; every totem setting takes its default'],
  );
});
