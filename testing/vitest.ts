/**
 * kdefer/vitest: matchers and schedule properties for a kernel developer's
 * own vitest suite. Importing this module registers the matchers with
 * vitest's `expect` (import it in each test file, or once in vitest's
 * setupFiles).
 *
 *   import { expect, it } from 'vitest';
 *   import { scheduleProp } from 'kdefer/vitest';
 *
 *   it('eth-stats deadlocks', () => expect(ethStats).toViolate('deadlock'));
 *   it('the fix holds on 2 CPUs', () => expect(ethStatsFixed).toBeVerified({ cpus: 2 }));
 *
 * Needs vitest (≥ 4.1) in the project, next to kdefer; scheduleProp also
 * needs @fast-check/vitest (loaded on its first use).
 */
import { expect } from 'vitest';
import { kdeferMatchers, type VerifiedOptions, type ViolateOptions } from './matchers.ts';
import type { ViolationKind } from '../model/index.ts';

export { kdeferMatchers, toBeVerified, toViolate, verdictStory, type VerifiedOptions, type ViolateOptions } from './matchers.ts';
export { DEFAULT_SCHEDULE_STEPS, scheduleProp, schedules, scheduleText, type ScheduleOptions, type SchedulePropOptions, type ScheduleRun } from './schedules.ts';

expect.extend(kdeferMatchers);

interface KdeferMatchers<R = unknown> {
  /** An exhaustive search finds no violation within the design's bounds, or within `bounds` instead. */
  toBeVerified(bounds?: VerifiedOptions): R;
  /** Some schedule within the bounds ends in a violation of `kind` (any kind if left out). */
  toViolate(kind?: ViolationKind, options?: ViolateOptions): R;
}

declare module 'vitest' {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type
  interface Matchers<T = any> extends KdeferMatchers<T> {}
}
