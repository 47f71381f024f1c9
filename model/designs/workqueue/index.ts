/** Catalogue designs of the workqueue area, buggy then fixed, pair by pair. */
import type { Design } from '../../dsl/design.ts';

export const WORKQUEUE_DESIGNS: readonly Design[] = [];
