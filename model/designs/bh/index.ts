/** Catalogue designs of the bh area, buggy then fixed, pair by pair. */
import type { Design } from '../../dsl/design.ts';

export const BH_DESIGNS: readonly Design[] = [];
