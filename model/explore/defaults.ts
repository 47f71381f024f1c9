/**
 * The explorers' default bounds, apart from the explorers themselves so
 * that what only names them (model/bounds.ts, the command line's listing)
 * does not load the searches.
 */

/** Default cap on distinct states; past it the verdict is bounded-out, never verified. */
export const DEFAULT_MAX_STATES = 5_000_000;

/** Default number of schedules the random explorer samples. */
export const DEFAULT_RUNS = 1000;
