import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, parseConfig } from '../../src/config/index.js';

/** A valid file; `totemExtra` lines go inside totem { }, `nodes` replaces the node list body. */
function conf(totemExtra: string[] = [], nodes?: string, tail = ''): string {
  const nodeText =
    nodes ??
    [
      '  node {',
      '    ring0_addr: 10.0.0.1',
      '    nodeid: 1',
      '  }',
      '  node {',
      '    ring0_addr: 10.0.0.2',
      '    nodeid: 2',
      '  }',
    ].join('\n');
  return [
    'totem {',
    '  version: 2',
    '  cluster_name: test',
    ...totemExtra.map((l) => `  ${l}`),
    '}',
    'nodelist {',
    nodeText,
    '}',
    tail,
  ].join('\n');
}

function errorOf(text: string, file = 'corosync.conf'): ConfigError {
  try {
    parseConfig(text, file);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected the configuration to be refused');
}

function assertError(text: string, message: string): void {
  assert.equal(errorOf(text).message, message);
}

// totem { is line 1; version 2; cluster_name 3; the first extra line is line 4.
const bad: [string, string[], string][] = [
  [
    'non-numeric token',
    ['token: fast'],
    'corosync.conf:4: totem.token: expected a positive integer (ms), got "fast"',
  ],
  ['zero token', ['token: 0'], 'corosync.conf:4: totem.token: expected a positive integer (ms), got "0"'],
  ['negative join', ['join: -5'], 'corosync.conf:4: totem.join: expected a positive integer (ms), got "-5"'],
  [
    'trailing comment in value',
    ['token: 3000 # ms'],
    'corosync.conf:4: totem.token: expected a positive integer (ms), got "3000 # ms"',
  ],
  [
    'fractional merge',
    ['merge: 2.5'],
    'corosync.conf:4: totem.merge: expected a positive integer (ms), got "2.5"',
  ],
  [
    'too large',
    ['token: 99999999999'],
    'corosync.conf:4: totem.token: must be at most 4294967295, got 99999999999',
  ],
  [
    'window not a count',
    ['window_size: many'],
    'corosync.conf:4: totem.window_size: expected a positive integer, got "many"',
  ],
  [
    'negative send_join',
    ['send_join: -1'],
    'corosync.conf:4: totem.send_join: expected a non-negative integer (ms), got "-1"',
  ],
  ['token below minimum', ['token: 20'], 'corosync.conf:4: totem.token: must be at least 30 ms, got 20'],
  [
    'derived hold below minimum',
    ['token: 130'],
    'corosync.conf:4: totem.hold: must be at least 30 ms, got 14 (derived from token 130 ms; raise token or set hold)',
  ],
  [
    'consensus below 1.2 token',
    ['consensus: 1000'],
    'corosync.conf:4: totem.consensus: must be at least 1.2 × token (1200 ms), got 1000',
  ],
  [
    'consensus below 1.2 token, fractional',
    ['token: 1001', 'consensus: 1201'],
    'corosync.conf:5: totem.consensus: must be at least 1.2 × token (1201.2 ms), got 1201',
  ],
  [
    'consensus below join',
    ['join: 2000', 'consensus: 1500'],
    'corosync.conf:5: totem.consensus: must be at least join (2000 ms), got 1500',
  ],
  [
    'retransmit not below token',
    ['token_retransmit: 1000'],
    'corosync.conf:4: totem.token_retransmit: must be less than token (1000 ms), got 1000',
  ],
  [
    'hold not below retransmit',
    ['hold: 500'],
    'corosync.conf:4: totem.hold: must be less than token_retransmit (238 ms), got 500',
  ],
  [
    'max_messages above window',
    ['max_messages: 60'],
    'corosync.conf:4: totem.max_messages: must not exceed window_size (50), got 60',
  ],
  [
    'transport knet',
    ['transport: knet'],
    'corosync.conf:4: totem.transport: "knet" is not supported (use udpu or udp)',
  ],
  [
    'transport tcp',
    ['transport: tcp'],
    'corosync.conf:4: totem.transport: expected one of udpu, udp, got "tcp"',
  ],
  [
    'cipher aes128',
    ['crypto_cipher: aes128'],
    'corosync.conf:4: totem.crypto_cipher: "aes128" is not supported (use aes256 or chacha20)',
  ],
  [
    'cipher rot13',
    ['crypto_cipher: rot13'],
    'corosync.conf:4: totem.crypto_cipher: expected one of aes256, chacha20, none, got "rot13"',
  ],
  [
    'hash without cipher',
    ['crypto_hash: sha256'],
    'corosync.conf:4: totem.crypto_hash: authentication without encryption is not supported; set crypto_cipher (aes256 or chacha20) or crypto_hash: none',
  ],
  [
    'hash unknown',
    ['crypto_hash: crc32'],
    'corosync.conf:4: totem.crypto_hash: expected one of none, md5, sha1, sha256, sha384, sha512, got "crc32"',
  ],
  [
    'relative keyfile',
    ['keyfile: authkey'],
    'corosync.conf:4: totem.keyfile: expected an absolute path, got "authkey"',
  ],
  ['netmtu too small', ['netmtu: 100'], 'corosync.conf:4: totem.netmtu: must be at least 576, got 100'],
  ['netmtu too large', ['netmtu: 70000'], 'corosync.conf:4: totem.netmtu: must be at most 65535, got 70000'],
  [
    'ip_version mixed',
    ['ip_version: ipv6-4'],
    'corosync.conf:4: totem.ip_version: "ipv6-4" is not supported (use ipv4 or ipv6)',
  ],
  [
    'mcastport out of range',
    ['mcastport: 70000'],
    'corosync.conf:4: totem.mcastport: expected a port number (1..65535), got "70000"',
  ],
  [
    'mcastaddr not multicast',
    ['transport: udp', 'mcastaddr: 10.1.1.1'],
    'corosync.conf:5: totem.mcastaddr: expected an IPv4 multicast address (224.0.0.0 to 239.255.255.255), got "10.1.1.1"',
  ],
  [
    'ttl out of range',
    ['transport: udp', 'ttl: 300'],
    'corosync.conf:5: totem.ttl: expected 0..255, got "300"',
  ],
];

for (const [name, lines, message] of bad) {
  test(`refuses ${name}`, () => assertError(conf(lines), message));
}

test('refuses a version other than 2', () => {
  assertError(
    'totem {\n  version: 3\n}\nnodelist {\n node {\n  ring0_addr: 10.0.0.1\n }\n}\n',
    'corosync.conf:2: totem.version: expected 2, got "3"',
  );
});

test('refuses ring numbers other than 0', () => {
  assertError(
    conf(['interface {', '  ringnumber: 1', '}']),
    'corosync.conf:5: totem.interface.ringnumber: only ring 0 is supported, got 1',
  );
});

test('refuses mcastport written twice with different values', () => {
  assertError(
    conf(['mcastport: 5405', 'interface {', '  mcastport: 5407', '}']),
    'corosync.conf:6: totem.interface.mcastport: "5407" differs from totem.mcastport "5405" (line 4); write it once',
  );
});

test('refuses a cipher without a cluster name', () => {
  assertError(
    'totem {\n  version: 2\n  crypto_cipher: aes256\n}\nnodelist {\n node {\n  ring0_addr: 10.0.0.1\n }\n}\n',
    'corosync.conf:3: totem.crypto_cipher: needs totem.cluster_name (the packet key is derived from the key file and the cluster name)',
  );
});

test('refuses an empty cluster name', () => {
  assertError(
    conf().replace('cluster_name: test', 'cluster_name: ""'),
    'corosync.conf:3: totem.cluster_name: must not be empty',
  );
});

// Node list errors. The node list starts at line 5 (after totem's 4 lines).
const nodeBad: [string, string, string][] = [
  [
    'a host name',
    '  node {\n    ring0_addr: node1.example.com\n    nodeid: 1\n  }',
    'corosync.conf:7: nodelist.node.ring0_addr: expected an IPv4 or IPv6 address, got "node1.example.com" (host names are not resolved)',
  ],
  [
    'a bad IPv4',
    '  node {\n    ring0_addr: 10.0.0.256\n  }',
    'corosync.conf:7: nodelist.node.ring0_addr: expected an IPv4 or IPv6 address, got "10.0.0.256" (host names are not resolved)',
  ],
  [
    'a missing address',
    '  node {\n    nodeid: 1\n  }',
    'corosync.conf:6: nodelist.node.ring0_addr: missing (every node needs its address)',
  ],
  [
    'node id 0',
    '  node {\n    ring0_addr: 10.0.0.1\n    nodeid: 0\n  }',
    'corosync.conf:8: nodelist.node.nodeid: must not be 0 (node id 0 is reserved)',
  ],
  [
    'a non-numeric node id',
    '  node {\n    ring0_addr: 10.0.0.1\n    nodeid: one\n  }',
    'corosync.conf:8: nodelist.node.nodeid: expected a positive integer, got "one"',
  ],
  [
    'a duplicate node id',
    '  node {\n    ring0_addr: 10.0.0.1\n    nodeid: 7\n  }\n  node {\n    ring0_addr: 10.0.0.2\n    nodeid: 7\n  }',
    'corosync.conf:12: nodelist.node.nodeid: 7 is already used by the node at line 6',
  ],
  [
    'a derived node id that collides',
    '  node {\n    ring0_addr: 10.0.0.1\n    nodeid: 167772161\n  }\n  node {\n    ring0_addr: 10.0.0.2\n  }\n  node {\n    ring0_addr: 10.0.0.1\n    ring0_port: 6000\n  }',
    'corosync.conf:13: nodelist.node.nodeid: 167772161 is already used by the node at line 6',
  ],
  [
    'a duplicate address and port',
    '  node {\n    ring0_addr: 10.0.0.1\n    nodeid: 1\n  }\n  node {\n    ring0_addr: 10.0.0.1\n    nodeid: 2\n  }',
    'corosync.conf:11: nodelist.node.ring0_addr: 10.0.0.1 port 5405 is already used by the node at line 6',
  ],
  [
    'a duplicate name',
    '  node {\n    ring0_addr: 10.0.0.1\n    nodeid: 1\n    name: a\n  }\n  node {\n    ring0_addr: 10.0.0.2\n    nodeid: 2\n    name: a\n  }',
    'corosync.conf:11: nodelist.node.name: "a" is already used by the node at line 6',
  ],
  [
    'IPv6 without node id',
    '  node {\n    ring0_addr: fd00::1\n  }',
    'corosync.conf:6: nodelist.node.nodeid: missing (required with an IPv6 address)',
  ],
  [
    'mixed address families',
    '  node {\n    ring0_addr: 10.0.0.1\n    nodeid: 1\n  }\n  node {\n    ring0_addr: fd00::2\n    nodeid: 2\n  }',
    'corosync.conf:11: nodelist.node.ring0_addr: fd00::2 is IPv6 but the first node (line 6) is IPv4',
  ],
  [
    'a bad port',
    '  node {\n    ring0_addr: 10.0.0.1\n    ring0_port: 0\n  }',
    'corosync.conf:8: nodelist.node.ring0_port: expected a port number (1..65535), got "0"',
  ],
  ['no nodes', '', 'corosync.conf:5: nodelist: has no node { } entries'],
];

for (const [name, nodes, message] of nodeBad) {
  test(`refuses ${name} in the node list`, () => assertError(conf([], nodes), message));
}

test('refuses a family that disagrees with ip_version', () => {
  assertError(
    conf(['ip_version: ipv6']),
    'corosync.conf:8: nodelist.node.ring0_addr: 10.0.0.1 is IPv4 but totem.ip_version is ipv6 (line 4)',
  );
});

test('refuses a file without a node list', () => {
  assertError(
    'totem {\n  version: 2\n}\n',
    'corosync.conf: nodelist: missing; list every node as node { ring0_addr: ADDRESS; nodeid: N }',
  );
});

const syntaxBad: [string, string, string][] = [
  [
    'an unclosed section',
    'totem {\n  version: 2\n',
    "corosync.conf:1: totem: section is never closed (missing '}')",
  ],
  ['an extra brace', 'totem {\n}\n}\n', "corosync.conf:3: unexpected '}': no section is open"],
  [
    'a one-line section',
    'totem { version: 2 }\n',
    `corosync.conf:1: totem: unexpected text after '{': "version: 2 }" (put each item on its own line)`,
  ],
  [
    'text after a closing brace',
    'totem {\n} # end\n',
    `corosync.conf:2: totem: unexpected text after '}': "# end"`,
  ],
  [
    'a bare word',
    'totem {\n  token 1000\n}\n',
    'corosync.conf:2: totem: expected "key: value", "name {" or "}", got "token 1000"',
  ],
  ['a missing key', 'totem {\n  : 1000\n}\n', "corosync.conf:2: totem: missing key before ':'"],
  [
    'a key with a space',
    'totem {\n  to ken: 1000\n}\n',
    'corosync.conf:2: totem: "to ken" is not a valid key',
  ],
  ['a nameless section', '{\n}\n', "corosync.conf:1: section has no name before '{'"],
  [
    'unbalanced quotes',
    'totem {\n  cluster_name: "abc\n}\n',
    'corosync.conf:2: totem.cluster_name: unbalanced quotes in value "\\"abc" (quote the whole value once, or not at all)',
  ],
];

for (const [name, text, message] of syntaxBad) {
  test(`refuses ${name}`, () => assertError(text, message));
}

test('logging: to_logfile needs a logfile; booleans and levels are checked', () => {
  assertError(
    conf([], undefined, 'logging {\n  to_logfile: yes\n}'),
    'corosync.conf:16: logging.to_logfile: needs logging.logfile',
  );
  assertError(
    conf([], undefined, 'logging {\n  to_stderr: maybe\n}'),
    'corosync.conf:16: logging.to_stderr: expected yes or no, got "maybe"',
  );
  assertError(
    conf([], undefined, 'logging {\n  debug: loud\n}'),
    'corosync.conf:16: logging.debug: expected one of off, on, trace, got "loud"',
  );
  assertError(
    conf([], undefined, 'logging {\n  logger_subsys {\n    debug: on\n  }\n}'),
    'corosync.conf:16: logging.logger_subsys.subsys: missing (name the subsystem)',
  );
});

test('runtime: paths must be absolute and buffers sane', () => {
  assertError(
    conf([], undefined, 'runtime {\n  state_dir: var/lib\n}'),
    'corosync.conf:16: runtime.state_dir: expected an absolute path, got "var/lib"',
  );
  assertError(
    conf([], undefined, 'runtime {\n  recv_buffer: 100\n}'),
    'corosync.conf:16: runtime.recv_buffer: must be at least 4096, got 100',
  );
});

test('every error is collected, in file order, and the first is thrown', () => {
  const err = errorOf(conf(['token: fast', 'join: slow'], '  node {\n    ring0_addr: nowhere\n  }'));
  assert.deepEqual(
    err.errors.map((e) => e.message),
    [
      'corosync.conf:4: totem.token: expected a positive integer (ms), got "fast"',
      'corosync.conf:5: totem.join: expected a positive integer (ms), got "slow"',
      'corosync.conf:9: nodelist.node.ring0_addr: expected an IPv4 or IPv6 address, got "nowhere" (host names are not resolved)',
    ],
  );
  assert.equal(err.message, err.errors[0]!.message);
  assert.equal(err.line, 4);
  assert.equal(err.key, 'totem.token');
  assert.equal(err.file, 'corosync.conf');
});

test('the file name given appears in messages', () => {
  assert.equal(
    errorOf(conf(['token: fast']), '/etc/totem/totem.conf').message,
    '/etc/totem/totem.conf:4: totem.token: expected a positive integer (ms), got "fast"',
  );
});
