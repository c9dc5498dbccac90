/**
 * Preloaded by scripts/run-tests.mjs: every property test runs from one fixed seed, so a
 * failure in CI is reproducible. TOTEM_FC_SEED=N picks another seed, TOTEM_FC_SEED=random
 * explores (fast-check prints the seed and path of any counterexample it finds).
 */
import fc from 'fast-check';

const requested = process.env.TOTEM_FC_SEED;
if (requested !== 'random') {
  const seed = requested !== undefined && /^-?\d+$/.test(requested) ? Number(requested) : 20261128;
  fc.configureGlobal({ seed });
}
