/** Catalogue designs of the timer area, buggy then fixed, pair by pair. */
import type { Design } from '../../dsl/design.ts';

export const TIMER_DESIGNS: readonly Design[] = [];
