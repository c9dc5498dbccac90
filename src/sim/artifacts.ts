/**
 * What a failing run leaves behind: every node's flight-recorder ring (readable by
 * `totem fplay`), the command that replays the run, and the result as JSON.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SimRunResult } from './run.js';

export function ringFileName(node: number): string {
  return `fr-${node}-sim.ring`;
}

/** Writes the failure directory; returns the paths written. */
export function writeFailureArtifacts(dir: string, result: SimRunResult, replay: string): string[] {
  mkdirSync(dir, { recursive: true });
  const written: string[] = [];
  for (const [node, rec] of result.world.recorders) {
    const path = join(dir, ringFileName(node));
    writeFileSync(path, rec.snapshot());
    written.push(path);
  }
  const cmd = join(dir, 'replay.sh');
  writeFileSync(cmd, `#!/bin/sh\n# seed ${result.seed}: ${describeViolation(result)}\n${replay}\n`, {
    mode: 0o755,
  });
  written.push(cmd);
  const json = join(dir, 'result.json');
  writeFileSync(json, `${JSON.stringify({ ...resultSummary(result), replay }, null, 2)}\n`);
  written.push(json);
  return written;
}

export function describeViolation(result: SimRunResult): string {
  const v = result.violation;
  if (!v) return 'PASS';
  const where = v.node === undefined ? '' : ` node ${v.node}`;
  return `${v.invariant}${where} at ${v.time.toFixed(3)} ms: ${v.detail}`;
}

/** The plain-data part of a result (no world), for JSON output. */
export function resultSummary(r: SimRunResult): Record<string, unknown> {
  return {
    pass: r.pass,
    violation: r.violation ?? null,
    seed: r.seed,
    nodes: r.nodes,
    core: r.core,
    faults: r.faults,
    durationMs: r.durationMs,
    settleMs: r.settleMs,
    traceHash: r.traceHash,
    events: r.events,
    simMs: r.simMs,
    wallMs: Math.round(r.wallMs * 10) / 10,
    offered: r.offered,
    accepted: r.accepted,
    deliveries: r.deliveries,
    configurations: r.configurations,
    packets: r.packets,
    faultCounts: r.faultCounts,
    liveAtEnd: r.liveAtEnd,
    settledAfterMs: r.settledAfterMs,
    nodesAtEnd: r.world.describeNodes(),
  };
}
