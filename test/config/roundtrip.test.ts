import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { parseConfig, resolveTimings } from '../../src/config/index.js';

const nodeArb = fc.uniqueArray(
  fc.record({ id: fc.integer({ min: 1, max: 0x7fff_ffff }), host: fc.integer({ min: 1, max: 65534 }) }),
  { minLength: 1, maxLength: 8, selector: (n) => n.id },
);

test('property: written values come back as written; unwritten ones follow the derivation rules', () => {
  fc.assert(
    fc.property(
      nodeArb,
      fc.integer({ min: 250, max: 20_000 }),
      fc.option(fc.integer({ min: 0, max: 2000 }), { nil: undefined }),
      fc.option(fc.integer({ min: 0, max: 5000 }), { nil: undefined }),
      fc.integer({ min: 1, max: 17 }),
      fc.boolean(),
      fc.constantFrom('\n', '\r\n'),
      (nodes, token, coefficient, extraConsensus, maxMessages, tabs, eol) => {
        const hosts = new Set<number>();
        const unique = nodes.filter((n) => !hosts.has(n.host) && hosts.add(n.host));
        const effective = unique.length >= 3 ? token + (unique.length - 2) * (coefficient ?? 650) : token;
        const consensus =
          extraConsensus === undefined ? undefined : Math.ceil((effective * 6) / 5) + extraConsensus;
        const indent = tabs ? '\t' : '    ';
        const lines = [
          'totem {',
          `${indent}version: 2`,
          `${indent}token: ${token}`,
          `${indent}max_messages: ${maxMessages}`,
        ];
        if (coefficient !== undefined) lines.push(`${indent}token_coefficient: ${coefficient}`);
        if (consensus !== undefined) lines.push(`${indent}consensus: ${consensus}`);
        lines.push('}', 'nodelist {');
        for (const n of unique) {
          lines.push(
            `${indent}node {`,
            `${indent}${indent}ring0_addr: 10.1.${n.host >> 8}.${n.host & 0xff}`,
            `${indent}${indent}nodeid: ${n.id}`,
            `${indent}}`,
          );
        }
        lines.push('}');
        const { config, warnings } = parseConfig(lines.join(eol));
        assert.deepEqual(warnings, []);
        const expected = resolveTimings(
          { token, tokenCoefficient: coefficient, consensus, maxMessages },
          unique.length,
        );
        assert.equal(config.totem.token, effective);
        assert.deepEqual(
          {
            token: config.totem.token,
            tokenRetransmit: config.totem.tokenRetransmit,
            hold: config.totem.hold,
            consensus: config.totem.consensus,
            maxMessages: config.totem.maxMessages,
          },
          {
            token: expected.token,
            tokenRetransmit: expected.tokenRetransmit,
            hold: expected.hold,
            consensus: expected.consensus,
            maxMessages,
          },
        );
        if (consensus !== undefined) assert.equal(config.totem.consensus, consensus);
        assert.deepEqual(
          config.nodelist.map((n) => n.nodeId),
          unique.map((n) => n.id),
        );
      },
    ),
    { numRuns: 300 },
  );
});
