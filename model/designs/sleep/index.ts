/** Catalogue designs of the sleep area, buggy then fixed, pair by pair. */
import type { Design } from '../../dsl/design.ts';

export const SLEEP_DESIGNS: readonly Design[] = [];
