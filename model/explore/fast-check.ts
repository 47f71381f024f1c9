/**
 * fast-check for the random explorer, loaded on first use: an exhaustive
 * check (the command line's default, and every `kdefer list`) never pays
 * for it (~40 ms of a cold start). Loaded through require(), so
 * synchronously, as check() is; that is fast-check's CommonJS build, the
 * same code as its ES module. The explorer's arbitraries, properties and
 * runs stay inside it, so this copy never meets a user's: a project's own
 * `import fc from 'fast-check'` (or kdefer/vitest's schedule properties)
 * is the ES module, and nothing passes between the two but plain values
 * (plans, seeds, paths).
 */
import { createRequire } from 'node:module';
import type * as FastCheck from 'fast-check';

let loaded: typeof FastCheck | null = null;

/** The fast-check module, required the first time it is asked for. */
export function fastCheck(): typeof FastCheck {
  loaded ??= createRequire(import.meta.url)('fast-check') as typeof FastCheck;
  return loaded;
}
