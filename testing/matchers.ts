/**
 * vitest matchers for designs:
 *
 *   expect(design).toBeVerified()                   // exhaustively, within the design's own bounds
 *   expect(design).toBeVerified({ cpus: 3, irqs: { eth0: 2 } })   // within these bounds instead
 *   expect(design).toViolate('deadlock')            // some schedule deadlocks
 *   expect(design).not.toViolate('sleep-in-atomic')
 *
 * The options are bounds to explore within, replacing the design's own
 * (withBounds: cpus, irqs, ticks, preempt, profile), plus the explorer's:
 * `maxStates` (exhaustive), or for toViolate `explorer: 'random'` with
 * `runs` and `seed`. A failure message carries what was expected, the
 * bounds, and the verdict: the violation's kind, its message in the
 * kernel's wording, and the schedule, one labelled step a line, as
 * `kdefer check` prints them.
 */
import {
  boundsText, check, VIOLATION_KINDS, withBounds, type BoundsOverride, type CheckOptions, type Design, type Verdict,
  type ViolationKind,
} from '../model/index.ts';
import { BOUNDS_OVERRIDE_KEYS } from '../model/dsl/bounds.ts';

/** Bounds and explorer for toBeVerified: always exhaustive, as only an exhaustive search proves. */
export interface VerifiedOptions extends BoundsOverride {
  /** Distinct states before the search gives up as bounded-out (which fails the matcher). */
  readonly maxStates?: number;
}

/** Bounds and explorer for toViolate: exhaustive by default, or a random search. */
export interface ViolateOptions extends BoundsOverride {
  readonly explorer?: 'exhaustive' | 'random';
  readonly maxStates?: number;
  readonly runs?: number;
  readonly seed?: number;
}

const EXPLORER_KEYS = ['explorer', 'maxStates', 'runs', 'seed'] as const;

/** What a matcher returns to vitest. */
interface MatcherResult {
  readonly pass: boolean;
  readonly message: () => string;
}

/** The design a matcher was given, or a TypeError saying what it got instead. */
function designOf(received: unknown, matcher: string): Design {
  const d = received as Partial<Design> | null;
  if (typeof d !== 'object' || d === null || typeof d.name !== 'string' || typeof d.cpus !== 'number' || !Array.isArray(d.tasks)) {
    throw new TypeError(`${matcher}: expects a design (an object with a string 'name', a number 'cpus' and a 'tasks' list), got ${typeof received === 'object' ? JSON.stringify(received)?.slice(0, 80) : String(received)}`);
  }
  return d as Design;
}

/** Check the options' keys, split them into bounds and explorer options, and check the design within them. */
function verdictOf(design: Design, options: object, matcher: string, allowed: readonly string[]): Verdict {
  for (const key of Object.keys(options)) {
    if (!(BOUNDS_OVERRIDE_KEYS as readonly string[]).includes(key) && !allowed.includes(key)) {
      throw new TypeError(`${matcher}: unknown option '${key}' (options: ${[...BOUNDS_OVERRIDE_KEYS, ...allowed].join(', ')})`);
    }
  }
  const o = options as VerifiedOptions & ViolateOptions;
  const bounds: BoundsOverride = Object.fromEntries(BOUNDS_OVERRIDE_KEYS.filter((k) => o[k] !== undefined).map((k) => [k, o[k]]));
  const explorer: CheckOptions = Object.fromEntries(EXPLORER_KEYS.filter((k) => o[k] !== undefined).map((k) => [k, o[k]]));
  return check(withBounds(design, bounds), explorer);
}

/** The verdict, as the message's second half: its kind, message and labelled schedule, or why it is not a proof. */
export function verdictStory(v: Verdict): string {
  if (v.violation) {
    const viol = v.violation;
    const digits = String(viol.trace.length).length;
    return [
      `a ${viol.kind}:`,
      ...viol.message.split('\n').map((l) => `  ${l}`),
      `  schedule, ${viol.trace.length} step${viol.trace.length === 1 ? '' : 's'}:`,
      ...viol.trace.map((label, i) => `  ${String(i + 1).padStart(digits + 2)}  ${label}`),
    ].join('\n');
  }
  if (v.status === 'bounded-out') return `no verdict: the search was bounded-out (${v.boundedOut ?? 'a bound was reached'})`;
  return 'no violation: it is verified';
}

/** `expect(design).toBeVerified(options?)`: an exhaustive search within the bounds finds no violation. */
export function toBeVerified(received: unknown, options: VerifiedOptions = {}): MatcherResult {
  const design = designOf(received, 'toBeVerified');
  const v = verdictOf(design, options, 'toBeVerified', ['maxStates']);
  const within = boundsText(v.bounds);
  return {
    pass: v.status === 'verified',
    message: () => v.status === 'verified'
      ? `expected design '${design.name}' not to be verified within ${within}, but it is (${v.stats.states} states)`
      : `expected design '${design.name}' to be verified within ${within}, but found ${verdictStory(v)}`,
  };
}

/** `expect(design).toViolate(kind?, options?)`: some schedule within the bounds has a violation of `kind` (any kind if left out). */
export function toViolate(received: unknown, kind?: ViolationKind, options: ViolateOptions = {}): MatcherResult {
  const design = designOf(received, 'toViolate');
  if (kind !== undefined && !(VIOLATION_KINDS as readonly string[]).includes(kind)) {
    throw new TypeError(`toViolate: '${String(kind)}' is not a violation kind (kinds: ${VIOLATION_KINDS.join(', ')})`);
  }
  const v = verdictOf(design, options, 'toViolate', EXPLORER_KEYS);
  const within = boundsText(v.bounds);
  const what = kind ?? 'violation';
  const pass = v.violation !== null && (kind === undefined || v.violation.kind === kind);
  return {
    pass,
    message: () => pass
      ? `expected design '${design.name}' to have no ${what} within ${within}, but found ${verdictStory(v)}`
      : v.violation
        ? `expected design '${design.name}' to have a ${what} within ${within}, but found ${verdictStory(v)}`
        : `expected design '${design.name}' to have a ${what} within ${within}, but found ${verdictStory(v)}${v.explorer === 'random' ? ` (random search, seed ${v.seed}: sampling proves nothing)` : ''}`,
  };
}

/** The matchers, for `expect.extend(kdeferMatchers)` (importing 'kdefer/vitest' does it). */
export const kdeferMatchers = { toBeVerified, toViolate };
