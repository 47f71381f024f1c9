/**
 * The catalogue: every scenario of the seeds as buggy/fixed pairs. Each
 * design claims a verdict in `expected`; `npm run check` confirms every
 * claim by exploring.
 */
import type { Design } from '../dsl/design.ts';

export const CATALOGUE: readonly Design[] = [];

/** A catalogue design by name. */
export function catalogueDesign(name: string): Design | undefined {
  return CATALOGUE.find((d) => d.name === name);
}
