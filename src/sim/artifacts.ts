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

/** An earlier incarnation's ring (the latest keeps ringFileName). */
export function earlierRingFileName(node: number, incarnation: number): string {
  return `fr-${node}-sim-${incarnation}.ring`;
}

/**
 * Writes every process's ring (each incarnation is one ring, as on a real host) into dir;
 * returns the paths. `totem fplay check DIR` reads them all.
 */
export function writeRings(dir: string, result: SimRunResult): string[] {
  mkdirSync(dir, { recursive: true });
  const written: string[] = [];
  for (const { node, incarnation, recorder } of result.world.rings) {
    const latest = result.world.recorders.get(node) === recorder;
    const path = join(dir, latest ? ringFileName(node) : earlierRingFileName(node, incarnation));
    writeFileSync(path, recorder.snapshot());
    written.push(path);
  }
  return written;
}

/** Writes the failure directory; returns the paths written. */
export function writeFailureArtifacts(dir: string, result: SimRunResult, replay: string): string[] {
  const written = writeRings(dir, result);
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
