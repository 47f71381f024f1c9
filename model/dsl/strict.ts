/**
 * Strict designs: every key of a design, at every depth, must be one the
 * compiler reads. A misspelled key (`irq:` for `irqs:`, `budjet:` for
 * `budget:`) would otherwise be ignored, and a buggy design could come out
 * `verified`. The compiler calls `checkKeys` on each object it reads; the
 * error names the key, where it is, and the nearest valid key.
 */

/** Edit distance with transpositions (optimal string alignment), for "did you mean". */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[] = new Array<number>(rows * cols).fill(0);
  for (let i = 0; i < rows; i++) d[i * cols] = i;
  for (let j = 0; j < cols; j++) d[j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[(i - 1) * cols + j]! + 1, d[i * cols + j - 1]! + 1, d[(i - 1) * cols + j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[(i - 2) * cols + j - 2]! + 1);
      d[i * cols + j] = best;
    }
  }
  return d[rows * cols - 1]!;
}

/**
 * The candidate closest to `word`, if it is close enough to be a likely
 * typo: at most a third of the word's length in edits (at least 2), or the
 * same word in another case.
 */
export function nearest(word: string, candidates: readonly string[]): string | null {
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const dist = c.toLowerCase() === word.toLowerCase() ? 0.5 : editDistance(word, c);
    if (dist < bestDistance) {
      best = c;
      bestDistance = dist;
    }
  }
  const limit = Math.max(2, Math.floor(word.length / 3));
  return best !== null && bestDistance <= limit ? best : null;
}

/** "unknown key 'irq' (did you mean 'irqs'?)", or the list of valid keys when none is close. */
export function unknownKeyProblem(key: string, allowed: readonly string[], what = 'key'): string {
  const near = nearest(key, allowed);
  if (near !== null) return `unknown ${what} '${key}' (did you mean '${near}'?)`;
  return `unknown ${what} '${key}' (valid: ${allowed.length > 0 ? allowed.join(', ') : 'none'})`;
}

/** The first key of `obj` not in `allowed`, or null. */
export function firstUnknownKey(obj: object, allowed: readonly string[]): string | null {
  for (const key of Object.keys(obj)) if (!allowed.includes(key)) return key;
  return null;
}

/**
 * Throw (through `fail`) if `obj` has a key outside `allowed`. Keys whose
 * value is `undefined` count too: `{ irq: undefined }` is still a typo.
 */
export function checkKeys(obj: object, allowed: readonly string[], fail: (problem: string) => never, what = 'key'): void {
  const key = firstUnknownKey(obj, allowed);
  if (key !== null) fail(unknownKeyProblem(key, allowed, what));
}

/** Top-level keys a design may have besides its mechanisms' object fields (see OBJECT_KINDS). */
export const DESIGN_KEYS = [
  'name', 'description', 'cpus', 'profile', 'flags', 'options', 'locks', 'vars', 'percpu', 'queues',
  'functions', 'tasks', 'irqs', 'softirqs', 'invariants', 'expected', 'twin', 'assumes',
] as const;

export const OPTION_KEYS = ['preempt', 'ticks', 'memoryPressure'] as const;
export const TASK_KEYS = ['name', 'cpu', 'body', 'allowed', 'start', 'after', 'replicable'] as const;
export const ASSUMPTION_KEYS = ['bound', 'why'] as const;
/**
 * The bounds a design's assumption may name, as `kdefer check --grow` grows
 * them; an interrupt line's budget is `irq <line>`.
 */
export const BOUND_NAMES = ['cpus', 'ticks', 'loops', 'preempt'] as const;
/** The bound name of an interrupt line's budget. */
export const irqBound = (line: string): string => `irq ${line}`;
export const IRQ_KEYS = ['name', 'handler', 'cpus', 'budget', 'nmi', 'start', 'thread', 'flags'] as const;
export const QUEUE_KEYS = ['capacity', 'initial'] as const;
export const LOCK_DECL_KEYS = ['kind', 'class'] as const;
export const INVARIANT_KEYS = ['name', 'holds', 'when', 'kind'] as const;
export const TRYLOCK_KEYS = ['trylock', 'lock', 'obj', 'flags'] as const;
export const IF_KEYS = ['op', 'cond', 'then', 'else'] as const;
export const WHILE_KEYS = ['op', 'cond', 'body', 'bound'] as const;
export const REPEAT_KEYS = ['op', 'count', 'body'] as const;
export const CALL_KEYS = ['op', 'fn'] as const;
export const EITHER_KEYS = ['op', 'branches'] as const;
export const STRUCT_KEYS = ['members', 'allocated'] as const;

/** The keys of each expression form, by the key that names the form. */
export const EXPR_FORMS: Readonly<Record<string, readonly string[]>> = {
  var: ['var'],
  reg: ['reg'],
  this_cpu: ['this_cpu'],
  per_cpu: ['per_cpu', 'cpu'],
  per_cpu_sum: ['per_cpu_sum'],
  queue_len: ['queue_len'],
  queue_head: ['queue_head'],
  smp_processor_id: ['smp_processor_id'],
  ctx: ['ctx'],
  seq_retry: ['seq_retry', 'seq'],
  fn: ['fn', 'args'],
};
