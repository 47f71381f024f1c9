/**
 * `kdefer check`: check design files (or the catalogue), print the verdict
 * table or one JSON array, save a counterexample file per violation.
 */
import { join, relative, resolve, sep } from 'node:path';
import {
  boundsText, checkProgram, profileText, compile, counterexampleOf, safeStem, storeCounterexample,
  type Bounds, type CheckOptions, type Design, type Program, type StoreOutcome, type Verdict,
} from '../../model/index.ts';
import { DEFAULT_MAX_STATES } from '../../model/explore/exhaustive.ts';
import { DEFAULT_RUNS } from '../../model/explore/random.ts';
import { loadCatalogue, loadDesignFile, type DesignSource } from './designs.ts';
import { EXIT_AS_EXPECTED, EXIT_NOT_AS_EXPECTED, UsageError } from './errors.ts';
import { complain, print } from './output.ts';

/** Where `check` saves counterexamples unless told otherwise. */
export const DEFAULT_SAVE_DIR = 'counterexamples';

export { DEFAULT_MAX_STATES, DEFAULT_RUNS };

/** The flags of `check`, as the command table (scripts/kdefer.ts) parses them. */
export interface CheckFlags {
  readonly all?: boolean;
  readonly json?: boolean;
  readonly explorer?: 'exhaustive' | 'random';
  readonly seed?: number;
  readonly runs?: number;
  readonly maxStates?: number;
  readonly saveDir?: string;
  /** false with --no-save. */
  readonly save: boolean;
  readonly update?: boolean;
}

/** The explorer options the `check` flags ask for. */
function checkOptions(flags: CheckFlags): CheckOptions {
  const explorer = flags.explorer ?? 'exhaustive';
  if (explorer === 'exhaustive') {
    if (flags.seed !== undefined) throw new UsageError('--seed applies to --explorer random only');
    if (flags.runs !== undefined) throw new UsageError('--runs applies to --explorer random only');
    return flags.maxStates === undefined ? { explorer } : { explorer, maxStates: flags.maxStates };
  }
  if (flags.maxStates !== undefined) throw new UsageError('--max-states applies to --explorer exhaustive only');
  // One seed for the whole run, printed, so the run can be repeated exactly.
  const seed = flags.seed ?? (Date.now() ^ (Math.random() * 0x100000000)) | 0;
  return { explorer, seed, runs: flags.runs ?? DEFAULT_RUNS };
}

/** Compile every design first, so a malformed one is reported before any exploring. */
function compileAll(sources: readonly DesignSource[]): { program: Program; module: string }[] {
  return sources.flatMap((src) =>
    src.designs.map((d) => ({ program: compileOrExplain(d, src.label), module: src.module })),
  );
}

/** compile(), with a DesignError turned into bad input naming the file. */
export function compileOrExplain(d: Design, label: string): Program {
  try {
    return compile(d);
  } catch (e) {
    if (e instanceof Error && e.name === 'DesignError') throw new UsageError(`${label}: ${e.message}`, label === 'catalogue' ? null : label);
    throw e;
  }
}

/** `module` as a path relative to `dir`, with forward slashes (machine-independent). */
function portable(dir: string, module: string): string {
  const rel = relative(dir, module).split(sep).join('/');
  return rel.startsWith('.') ? rel : `./${rel}`;
}

// ---------------------------------------------------------------- verdicts

/**
 * Whether a verdict is the one its design claims: `verified` and verified,
 * or the claimed violation kind. A design that claims nothing must not be
 * violated (bounded-out passes).
 */
export function asExpected(v: Verdict): boolean {
  if (v.expected === null || v.expected === undefined) return v.status !== 'violation';
  if (v.expected === 'verified') return v.status === 'verified';
  return v.status === 'violation' && v.violation?.kind === v.expected;
}

/** `violation: deadlock`, `verified`, `bounded-out`. */
function verdictText(v: Verdict): string {
  return v.violation ? `${v.status}: ${v.violation.kind}` : v.status;
}

/** "2 CPUs, eth0≤2, loops≤4, preempt": the bounds in a table cell (the profile has its own column). */
export function compactBounds(b: Bounds): string {
  const parts = [`${b.cpus} CPU${b.cpus === 1 ? '' : 's'}`, ...Object.entries(b.irqs).map(([line, k]) => `${line}≤${k}`)];
  if (b.ticks > 0) parts.push(`ticks≤${b.ticks}`);
  const loops = Object.values(b.loops);
  if (loops.length > 0) parts.push(`loops≤${Math.max(...loops)}`);
  if (b.preempt === 'full') parts.push('preempt');
  return parts.join(', ');
}

/** The verdict as JSON: the stable keys first, then the extras. */
function verdictJson(v: Verdict): object {
  return {
    design: v.design,
    fingerprint: v.fingerprint,
    expected: v.expected ?? null,
    status: v.status,
    violation: v.violation
      ? {
          kind: v.violation.kind,
          message: v.violation.message,
          cpu: v.violation.cpu,
          context: v.violation.context,
          choices: v.violation.choices,
          trace: v.violation.trace,
          ...(v.violation.cycle ? { cycle: v.violation.cycle } : {}),
        }
      : null,
    bounds: v.bounds,
    stats: { states: v.stats.states, transitions: v.stats.transitions, ms: v.stats.ms, ...(v.stats.parallelism !== undefined ? { parallelism: v.stats.parallelism } : {}) },
    explorer: v.explorer,
    kernel: v.kernel,
    asExpected: asExpected(v),
    boundedOut: v.boundedOut,
    ...(v.seed !== undefined ? { seed: v.seed } : {}),
  };
}

/** Columns padded to their widest cell; `right` columns are right-aligned. */
export function table(header: readonly string[], rows: readonly (readonly string[])[], right: ReadonlySet<number>): string[] {
  const width = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) =>
    cells.map((c, i) => (right.has(i) ? c.padStart(width[i]!) : c.padEnd(width[i]!))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)];
}

/** What the explorer did, once above the table. */
function explorerLine(opts: CheckOptions): string {
  if (opts.explorer === 'random') {
    return `random search: ${opts.runs} schedules per design, seed ${opts.seed} ` +
      `(repeat with --seed ${opts.seed}; sampling finds bugs, it proves nothing)`;
  }
  return `exhaustive search: every schedule within the bounds, at most ${opts.maxStates ?? DEFAULT_MAX_STATES} states per design`;
}

/** The text report: explorer line, verdict table, each violation's story, the tally. */
function report(verdicts: readonly Verdict[], opts: CheckOptions): string[] {
  const out = [explorerLine(opts), ''];
  const rows = verdicts.map((v) => [
    v.design,
    profileText(v.bounds.profile),
    compactBounds(v.bounds),
    v.expected ?? '-',
    verdictText(v),
    String(v.stats.states),
    String(v.stats.ms),
    v.stats.parallelism === undefined ? '-' : String(v.stats.parallelism),
    asExpected(v) ? 'OK' : 'MISMATCH',
  ]);
  const counted = opts.explorer === 'random' ? 'schedules' : 'states';
  out.push(...table(['design', 'profile', 'bounds', 'expected', 'verdict', counted, 'ms', 'parallel', ''], rows, new Set([5, 6, 7])));

  for (const v of verdicts) {
    if (v.violation) {
      const viol = v.violation;
      out.push('', `${v.design}: ${viol.kind}${asExpected(v) ? ' (as expected)' : ' (NOT as expected)'}`);
      out.push(...viol.message.split('\n').map((l) => `  ${l}`));
      out.push(`  within ${boundsText(v.bounds)}`);
      out.push(`  schedule, ${viol.trace.length} step${viol.trace.length === 1 ? '' : 's'}:`);
      const digits = String(viol.trace.length).length;
      viol.trace.forEach((label, i) => out.push(`  ${String(i + 1).padStart(digits + 2)}  ${label}`));
    } else if (v.status === 'bounded-out') {
      out.push('', `${v.design}: bounded-out${asExpected(v) ? '' : ' (NOT as expected)'}`, `  ${v.boundedOut ?? 'a bound was reached'}`, `  within ${boundsText(v.bounds)}`);
    }
  }

  const missed = verdicts.filter((v) => !asExpected(v)).map((v) => v.design);
  const total = `${verdicts.length} design${verdicts.length === 1 ? '' : 's'}`;
  const tally = missed.length === 0
    ? `${total}: ${verdicts.length} as expected`
    : `${total}: ${verdicts.length - missed.length} as expected, ${missed.length} NOT as expected: ${missed.join(', ')}`;
  out.push('', tally);
  return out;
}

// ---------------------------------------------------------------- the command

export async function runCheck(files: readonly string[], flags: CheckFlags): Promise<number> {
  const opts = checkOptions(flags);
  if (flags.all && files.length > 0) throw new UsageError('check takes design files or --all, not both');
  if (!flags.all && files.length === 0) throw new UsageError('check needs design files or --all (kdefer help check)');
  if (!flags.save && flags.saveDir !== undefined) throw new UsageError('--save-dir and --no-save contradict each other');
  if (flags.update && !flags.save) throw new UsageError('--update and --no-save contradict each other');

  const sources = flags.all ? [await loadCatalogue()] : [];
  for (const file of files) sources.push(await loadDesignFile(file));
  const saveDir = flags.save ? resolve(flags.saveDir ?? DEFAULT_SAVE_DIR) : null;
  const checked = compileAll(sources).map(({ program, module }) => ({ verdict: checkProgram(program, opts), program, module }));
  const verdicts = checked.map((c) => c.verdict);

  // The verdicts come first: nothing that goes wrong while saving may lose them.
  // The tally stays the last line; what was saved is listed just above it.
  const lines = report(verdicts, opts);
  const tally = lines.pop()!;
  if (!flags.json) print(lines.join('\n'));
  const store = saveDir ? checked.map((c) => storeOne(saveDir, c, flags.update ?? false)) : [];
  if (flags.json) {
    print(JSON.stringify(verdicts.map((v, i) => ({ ...verdictJson(v), ...(saveDir ? { counterexample: store[i]!.json } : {}) })), null, 2));
  } else {
    const saved = store.flatMap((s) => s.lines.map((l) => `  ${l}`));
    print([...(saved.length > 0 ? ['counterexamples:', ...saved, ''] : []), tally].join('\n'));
  }
  for (const s of store) for (const w of s.warnings) complain(`warning: ${w}`);
  return verdicts.every(asExpected) ? EXIT_AS_EXPECTED : EXIT_NOT_AS_EXPECTED;
}

/** What saving one design's counterexample did: lines for the report, its JSON, warnings for stderr. */
interface Stored {
  readonly lines: readonly string[];
  readonly warnings: readonly string[];
  readonly json: object;
}

/**
 * Save (or keep) one design's counterexample in `dir` and report stale
 * ones. A failure to write is a warning naming the file, never an error:
 * the verdicts stand and have been printed already.
 */
function storeOne(dir: string, c: { verdict: Verdict; program: Program; module: string }, update: boolean): Stored {
  const shown = (file: string) => relative(process.cwd(), file) || file;
  const cx = c.verdict.violation ? counterexampleOf(c.verdict, portable(dir, c.module)) : null;
  let outcome: StoreOutcome;
  try {
    outcome = storeCounterexample(dir, c.program, cx, { update });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const target = err.path ?? join(dir, `${safeStem(c.verdict.design)}.${cx?.violation.kind ?? 'json'}`);
    const why = err.code === 'EACCES' || err.code === 'EROFS' || err.code === 'EPERM' ? 'not writable'
      : err.code === 'ENOTDIR' || err.code === 'EEXIST' ? 'a file is in the way of the folder' : err.message;
    const warning = `could not save the counterexample of '${c.verdict.design}' to ${shown(target)}: ${why} (${err.code ?? 'error'}); its verdict above stands`;
    return { lines: [], warnings: [warning], json: { action: 'failed', file: null, error: warning } };
  }
  const lines: string[] = [];
  for (const s of outcome.stale) {
    lines.push(update ? `removed stale ${shown(s.file)} (${s.problem})` : `STALE ${shown(s.file)}: ${s.problem}`);
  }
  switch (outcome.action) {
    case 'saved': lines.push(`saved ${shown(outcome.file!)}`); break;
    case 'unchanged': lines.push(`unchanged ${shown(outcome.file!)}`); break;
    case 'kept': lines.push(`kept ${shown(outcome.file!)} (it still reproduces; --update replaces it with this run's schedule)`); break;
    case 'blocked': lines.push(`not saved: stale counterexamples of '${c.verdict.design}' are in the way (kdefer check --update replaces them)`); break;
    case 'none': break;
  }
  if (outcome.action === 'none' && outcome.stale.length > 0 && !update) {
    lines.push(`  '${c.verdict.design}' no longer has this violation; kdefer check --update removes the stale file`);
  }
  return {
    lines,
    warnings: [],
    json: {
      action: outcome.action,
      file: outcome.file === null ? null : shown(outcome.file),
      stale: outcome.stale.map((s) => ({ file: shown(s.file), problem: s.problem })),
      removed: outcome.removed.map(shown),
    },
  };
}
