/**
 * Why a chunk could not join its sender's pending assembly. Kept apart from reassembly.ts so
 * that the recorder's enum table can import it without an import cycle (reassembly records
 * through the event registry); the index is the value recorded as enum pgAssemblyError.
 */
export const ASSEMBLY_ERRORS = [
  'orphan-continuation',
  'wrong-message',
  'fragment-gap',
  'length-overrun',
  'length-mismatch',
  'unfinished',
  'too-large',
  'full-but-unfinished',
] as const;
export type AssemblyError = (typeof ASSEMBLY_ERRORS)[number];
