import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { type RingImage, readRing } from './reader.js';

export interface LoadedRings {
  readonly images: RingImage[];
  /** Inputs that could not be read at all (missing, unreadable). */
  readonly errors: string[];
}

/** Reads rings from files and directories (every `*.ring` inside, sorted by name). */
export function loadRings(inputs: readonly string[]): LoadedRings {
  const images: RingImage[] = [];
  const errors: string[] = [];
  for (const input of inputs) {
    let paths: string[];
    try {
      paths = statSync(input).isDirectory()
        ? readdirSync(input)
            .filter((n) => n.endsWith('.ring'))
            .sort()
            .map((n) => join(input, n))
        : [input];
      if (paths.length === 0) errors.push(`${input}: no .ring files in this directory`);
    } catch (err) {
      errors.push(`${input}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      continue;
    }
    for (const path of paths) {
      try {
        images.push(readRing(readFileSync(path), path));
      } catch (err) {
        errors.push(`${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
    }
  }
  return { images, errors };
}
