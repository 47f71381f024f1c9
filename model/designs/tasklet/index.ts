/** Catalogue designs of the tasklet area, buggy then fixed, pair by pair. */
import type { Design } from '../../dsl/design.ts';

export const TASKLET_DESIGNS: readonly Design[] = [];
