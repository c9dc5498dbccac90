/**
 * One checkpoint sync round: what this node sends and what it receives, kept apart from the
 * live database until activate.
 *
 * Sender rule: a node's "group" is the membership of its last committed (activated) round
 * that has come along with it through every configuration since (so is still present in the
 * new ring, and never left it: a node restarted under the same id is not in the group); the
 * lowest node of each group sends that group's database. Every member also sends a HELLO (whether it sends, its group size, its open
 * handles) so that receivers know which END markers to wait for and how to rebuild reference
 * counts. The database of a round is the merge of every sender's copy (see `merge`).
 *
 * Receivers check every message against what its sender declared: a section of a checkpoint
 * that sender has not sent, data from a non-sender, anything after END, counts that do not
 * match. Each is a typed CkptSyncProtocolError; the service aborts the round on it.
 */

import type { NodeId, RingId } from '../../core/io.js';
import { type Checkpoint, CkptDatabase, type Section, sectionKey, totalRefs } from './database.js';
import { CkptSyncProtocolError } from './errors.js';
import type { SyncCheckpoint, SyncHello, SyncMessage, SyncSection } from './wire.js';
import { SyncKind } from './wire.js';

interface SenderCopy {
  readonly node: NodeId;
  readonly groupSize: number;
  readonly checkpoints: Map<string, Checkpoint>;
  /** The checkpoint whose sections are arriving, and how many it still owes. */
  current: Checkpoint | undefined;
  owed: number;
  sections: number;
  ended: boolean;
}

export interface MergeReport {
  readonly db: CkptDatabase;
  readonly conflicts: { name: string; winner: NodeId; loser: NodeId }[];
  readonly senders: number;
}

export class SyncReceiver {
  readonly hellos = new Map<NodeId, SyncHello>();
  private readonly copies = new Map<NodeId, SenderCopy>();

  constructor(
    readonly ringId: RingId,
    readonly members: readonly NodeId[],
  ) {}

  /** True once every member's HELLO and every declared sender's END are in. */
  get complete(): boolean {
    if (this.hellos.size < this.members.length) return false;
    for (const c of this.copies.values()) if (!c.ended) return false;
    return true;
  }

  /** Takes one message of this round; throws CkptSyncProtocolError on a protocol breach. */
  receive(sender: NodeId, m: SyncMessage): void {
    if (!this.members.includes(sender))
      throw new CkptSyncProtocolError('not-a-member', sender, `kind ${m.kind}`);
    if (m.kind === SyncKind.Hello) {
      this.hello(sender, m);
      return;
    }
    const copy = this.copies.get(sender);
    if (!copy)
      throw new CkptSyncProtocolError('not-a-sender', sender, `kind ${m.kind} without a sender HELLO`);
    if (copy.ended) throw new CkptSyncProtocolError('after-end', sender, `kind ${m.kind}`);
    if (m.kind === SyncKind.Checkpoint) {
      this.checkpoint(copy, m);
      return;
    }
    if (m.kind === SyncKind.Section) {
      this.section(copy, m);
      return;
    }
    this.closeCurrent(copy);
    if (m.checkpoints !== copy.checkpoints.size || m.sections !== copy.sections) {
      throw new CkptSyncProtocolError(
        'checkpoint-count',
        sender,
        `END says ${m.checkpoints}/${m.sections}, got ${copy.checkpoints.size}/${copy.sections}`,
      );
    }
    copy.ended = true;
  }

  private hello(sender: NodeId, m: SyncHello): void {
    if (this.hellos.has(sender)) throw new CkptSyncProtocolError('duplicate-hello', sender, '');
    this.hellos.set(sender, m);
    if (m.sender) {
      this.copies.set(sender, {
        node: sender,
        groupSize: m.groupSize,
        checkpoints: new Map(),
        current: undefined,
        owed: 0,
        sections: 0,
        ended: false,
      });
    }
  }

  private closeCurrent(copy: SenderCopy): void {
    if (copy.current && copy.owed !== 0) {
      throw new CkptSyncProtocolError(
        'section-count',
        copy.node,
        `${copy.current.id} still owes ${copy.owed}`,
      );
    }
    copy.current = undefined;
  }

  private checkpoint(copy: SenderCopy, m: SyncCheckpoint): void {
    this.closeCurrent(copy);
    if (copy.checkpoints.has(m.ckptId))
      throw new CkptSyncProtocolError('duplicate-checkpoint', copy.node, m.ckptId);
    const c: Checkpoint = {
      id: m.ckptId,
      name: m.name,
      attributes: m.attributes,
      unlinked: m.unlinked,
      sections: new Map(),
      refcounts: new Map(),
      used: 0,
      nextGeneratedId: m.nextGeneratedId,
      version: m.version,
      unreferencedSince: m.unreferencedSince,
    };
    copy.checkpoints.set(m.ckptId, c);
    copy.current = c;
    copy.owed = m.sections;
  }

  private section(copy: SenderCopy, m: SyncSection): void {
    // Sections follow their checkpoint: anything else is a dangling reference (the 2008 crash
    // site asserted here; we refuse the round instead).
    const c = copy.current;
    if (!c || c.id !== m.ckptId) {
      throw new CkptSyncProtocolError('dangling-section', copy.node, `section for ${m.ckptId}`);
    }
    if (copy.owed === 0)
      throw new CkptSyncProtocolError('section-count', copy.node, `extra section in ${c.id}`);
    const key = sectionKey(m.sectionId);
    if (c.sections.has(key))
      throw new CkptSyncProtocolError('duplicate-section', copy.node, `${c.id}/${key}`);
    const s: Section = { id: m.sectionId, data: m.data, expiration: m.expiration, lastUpdate: m.lastUpdate };
    c.sections.set(key, s);
    c.used += s.data.length;
    copy.owed--;
    copy.sections++;
  }

  /**
   * The round's database. Rules, applied identically on every member:
   * 1. Senders are ranked by group size (descending), then node id (ascending).
   * 2. A checkpoint id held by several senders: the best-ranked sender's copy.
   * 3. Several linked checkpoints with one name: the best-ranked sender's stays linked, the
   *    others become unlinked (their open handles keep working; freed at their last close).
   * 4. Reference counts: each member's own HELLO (its open handles); other nodes have none.
   * 5. Unlinked checkpoints nobody references are dropped; linked ones nobody references get
   *    `unreferencedSince` = the latest HELLO time if they had none (their retention restarts).
   */
  merge(): MergeReport {
    const ranked = [...this.copies.values()].sort((a, b) => b.groupSize - a.groupSize || a.node - b.node);
    const db = new CkptDatabase();
    const conflicts: { name: string; winner: NodeId; loser: NodeId }[] = [];
    const linkedBy = new Map<string, NodeId>();
    for (const copy of ranked) {
      for (const c of [...copy.checkpoints.values()].sort((x, y) => (x.id < y.id ? -1 : 1))) {
        if (db.byId.has(c.id)) continue;
        if (!c.unlinked) {
          const holder = linkedBy.get(c.name);
          if (holder !== undefined) {
            conflicts.push({ name: c.name, winner: holder, loser: copy.node });
            c.unlinked = true;
          } else {
            linkedBy.set(c.name, copy.node);
          }
        }
        db.add(c);
      }
    }
    let latest = Number.NEGATIVE_INFINITY;
    for (const [node, hello] of [...this.hellos.entries()].sort((a, b) => a[0] - b[0])) {
      latest = Math.max(latest, hello.time);
      for (const h of hello.handles) {
        const c = db.byId.get(h.ckptId);
        if (c && h.count > 0) c.refcounts.set(node, h.count);
      }
    }
    for (const c of [...db.byId.values()]) {
      if (totalRefs(c) > 0) {
        c.unreferencedSince = undefined;
      } else if (c.unlinked) {
        db.remove(c);
      } else if (c.unreferencedSince === undefined) {
        c.unreferencedSince = latest;
      }
    }
    return { db, conflicts, senders: ranked.length };
  }
}
