/**
 * Canonical descriptions of checkpoint databases for the simulator's checks. Section data is
 * folded into a 64-bit hash (two independent 32-bit FNV-1a streams); everything else is kept as
 * text. Nothing is cached on the service's own bookkeeping (a version a change forgot to bump
 * must not hide the change).
 */
import type { Checkpoint, CkptDatabase } from '../../services/ckpt/database.js';

export function hashBytes(b: Uint8Array): string {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193 ^ b.length;
  for (let i = 0; i < b.length; i++) {
    const x = b[i]!;
    h1 = Math.imul(h1 ^ x, 0x01000193);
    h2 = Math.imul(h2 ^ x, 0x5bd1e995) ^ (h2 >>> 15);
  }
  return `${(h1 >>> 0).toString(16)}${(h2 >>> 0).toString(16).padStart(8, '0')}:${b.length}`;
}

/**
 * What a checkpoint holds, independent of where it is linked and who has it open: name,
 * attributes, version, id generator, every section's id, data, expiration and last update.
 */
export function checkpointContent(c: Checkpoint): string {
  const keys = [...c.sections.keys()].sort();
  const sections = keys.map((k) => {
    const s = c.sections.get(k)!;
    return `${k}=${hashBytes(s.data)}@${s.expiration}/${s.lastUpdate}`;
  });
  const a = c.attributes;
  const text = `${JSON.stringify(c.name)} f${a.creationFlags} cs${a.checkpointSize} r${a.retentionDuration} ms${a.maxSections} mss${a.maxSectionSize} mis${a.maxSectionIdSize} v${c.version} g${c.nextGeneratedId} {${sections.join(' ')}}`;
  return text;
}

export function refsText(c: Checkpoint): string {
  return [...c.refcounts.entries()]
    .filter(([, n]) => n > 0)
    .sort((x, y) => x[0] - y[0])
    .map(([n, v]) => `${n}:${v}`)
    .join(',');
}

/** The whole database, every field a replica must agree on. */
export function databaseDigest(db: CkptDatabase): string {
  const ids = [...db.byId.keys()].sort();
  const lines = ids.map((id) => {
    const c = db.byId.get(id)!;
    return `${id} ${c.unlinked ? 'U' : 'L'} refs[${refsText(c)}] since=${c.unreferencedSince} ${checkpointContent(c)}`;
  });
  const linked = [...db.linked.entries()]
    .sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0))
    .map(([n, c]) => `${n}->${c.id}`);
  return `${lines.join('\n')}\nlinked ${linked.join(',')}`;
}

/** Internal consistency of one replica (a partial or torn database fails here). */
export function databaseProblems(db: CkptDatabase): string | undefined {
  for (const [id, c] of db.byId) {
    if (c.id !== id) return `checkpoint ${c.id} filed under ${id}`;
    let used = 0;
    for (const s of c.sections.values()) {
      used += s.data.length;
      if (s.data.length > c.attributes.maxSectionSize)
        return `${id}: a section of ${s.data.length} bytes > maxSectionSize ${c.attributes.maxSectionSize}`;
    }
    if (used !== c.used) return `${id}: sections hold ${used} bytes, the checkpoint counts ${c.used}`;
    if (c.sections.size > c.attributes.maxSections)
      return `${id}: ${c.sections.size} sections > maxSections ${c.attributes.maxSections}`;
    if (!c.unlinked && db.linked.get(c.name) !== c)
      return `${id}: linked as ${c.name} but not in the name table`;
  }
  for (const [name, c] of db.linked) {
    if (db.byId.get(c.id) !== c) return `name ${name} points at ${c.id}, which is not in the database`;
    if (c.unlinked) return `name ${name} points at unlinked ${c.id}`;
  }
  return undefined;
}
