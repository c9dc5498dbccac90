import type { NodeId } from '../core/io.js';

/**
 * Sets of node ids kept as ascending arrays: the membership algorithm compares, unions and
 * subtracts them, and rings are ordered by ascending node id.
 */
export type NodeSet = readonly NodeId[];

export function setOf(ids: Iterable<NodeId>): NodeId[] {
  return [...new Set(ids)].sort((a, b) => a - b);
}

export function setHas(set: NodeSet, id: NodeId): boolean {
  return set.includes(id);
}

export function setUnion(a: NodeSet, b: NodeSet): NodeId[] {
  return setOf([...a, ...b]);
}

export function setMinus(a: NodeSet, b: NodeSet): NodeId[] {
  return a.filter((id) => !b.includes(id));
}

export function setIntersect(a: NodeSet, b: NodeSet): NodeId[] {
  return a.filter((id) => b.includes(id));
}

export function setSubset(sub: NodeSet, of: NodeSet): boolean {
  return sub.every((id) => of.includes(id));
}

export function setEqual(a: NodeSet, b: NodeSet): boolean {
  return a.length === b.length && a.every((id, i) => b[i] === id);
}
