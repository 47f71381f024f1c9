/**
 * `kdefer check`: check design files (or the catalogue), print the verdict
 * table or one JSON array, save a counterexample file per violation.
 */
import { join, relative, resolve, sep } from 'node:path';
import {
  assumptionsText, boundsText, checkProgram, checkProgramOn, checkProgramParallel, counterexampleOf, defaultWorkers, ExhaustiveWorkers, profileText, safeStem, storeCounterexample,
  type CheckOptions, type Program, type ShardSpec, type StoreOutcome, type Verdict,
} from '../../model/index.ts';
import { growCheck, isUnassumedFlip, type GrowOutcome } from '../../model/explore/grow.ts';
import { DEFAULT_MAX_STATES } from '../../model/explore/exhaustive.ts';
import { MAX_DEPTH } from '../../model/explore/pct.ts';
import { DEFAULT_DEPTH, DEFAULT_RUNS, DEFAULT_STRATEGY, type StrategyName } from '../../model/explore/random.ts';
import { RandomWorkers } from '../../model/explore/random-workers.ts';
import { loadCatalogue, loadDesignFile, type DesignSource } from './designs.ts';
import { compactBounds, compileOrExplain, table } from './text.ts';
import { lockdepJson, lockdepLines, runSuite } from './lockdep.ts';
import { EXIT_AS_EXPECTED, EXIT_NOT_AS_EXPECTED, UsageError } from './errors.ts';
import { complain, print } from './output.ts';
import { ProgressLine, type ProgressStream } from './progress.ts';
import { bytesText } from '../../model/explore/bytes.ts';

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
  readonly strategy?: StrategyName;
  readonly depth?: number;
  readonly workers?: number;
  readonly maxStates?: number;
  readonly saveDir?: string;
  /** false with --no-save. */
  readonly save: boolean;
  readonly update?: boolean;
  /** --grow [n]: raise each bound of each verified design by 1 up to n. */
  readonly grow?: number;
  /** --max-memory, in bytes. */
  readonly maxMemory?: number;
  /** false with --no-por, --no-symmetry, --no-fusion. */
  readonly por?: boolean;
  readonly symmetry?: boolean;
  readonly fusion?: boolean;
  /** false with --no-lockdep: no lockdep prediction (CheckOptions.lockdep). */
  readonly lockdep?: boolean;
  /** --lockdep-report: lockdep's whole report under each predicted problem (text), `report` in each lockdep entry (JSON). */
  readonly lockdepReport?: boolean;
  /** --suite <name>: run a peer suite instead of designs (scripts/cli/lockdep.ts). */
  readonly suite?: string;
  /** --filter <text>: with --suite, only the cases whose type, label or design name contains it. */
  readonly filter?: string;
  /** --shard i/N: search only shard i of N (model/explore/shard.ts). */
  readonly shard?: ShardSpec;
  /** --shorten auto|bfs|ddmin|none: how a violation's schedule is shortened (CheckOptions.shorten). */
  readonly shorten?: 'auto' | 'bfs' | 'ddmin' | 'none';
}

/** The worker threads the flags ask for: --workers (default the cores, defaultWorkers); one for a shard (it runs in one thread). */
function workersOf(flags: CheckFlags): number {
  if (flags.shard !== undefined) {
    if (flags.workers !== undefined && flags.workers > 1) {
      throw new UsageError(`--workers ${flags.workers} and --shard: a shard runs in one thread (cut the search into more shards instead: --shard i/N with a larger N)`);
    }
    return 1;
  }
  return flags.workers ?? defaultWorkers();
}

/** The explorer options the `check` flags ask for, and the worker threads of a random search. */
function checkOptions(flags: CheckFlags): CheckOptions & { readonly workers: number } {
  if (flags.lockdep === false && flags.lockdepReport) throw new UsageError('--no-lockdep and --lockdep-report contradict each other');
  const lockdep = flags.lockdep === false ? { lockdep: false } : {};
  const explorer = flags.explorer ?? 'exhaustive';
  if (explorer === 'exhaustive') {
    for (const [flag, value] of [['seed', flags.seed], ['runs', flags.runs], ['strategy', flags.strategy], ['depth', flags.depth]] as const) {
      if (value !== undefined) throw new UsageError(`--${flag} applies to --explorer random only`);
    }
    return {
      explorer,
      workers: workersOf(flags),
      ...(flags.shard ? { shard: flags.shard } : {}),
      ...(flags.maxStates !== undefined ? { maxStates: flags.maxStates } : {}),
      ...(flags.maxMemory !== undefined ? { maxMemory: flags.maxMemory } : {}),
      ...(flags.por === false ? { por: false } : {}),
      ...(flags.symmetry === false ? { symmetry: false } : {}),
      ...(flags.fusion === false ? { fusion: false } : {}),
      ...(flags.shorten !== undefined ? { shorten: flags.shorten } : {}),
      ...lockdep,
    };
  }
  if (flags.shorten === 'bfs') throw new UsageError('--shorten bfs applies to --explorer exhaustive only (the random explorer shortens by ddmin)');
  if (flags.maxStates !== undefined) throw new UsageError('--max-states applies to --explorer exhaustive only');
  if (flags.maxMemory !== undefined) throw new UsageError('--max-memory applies to --explorer exhaustive only');
  if (flags.shard !== undefined) throw new UsageError('--shard applies to --explorer exhaustive only');
  for (const r of ['por', 'symmetry', 'fusion'] as const) {
    if (flags[r] === false) throw new UsageError(`--no-${r} applies to --explorer exhaustive only`);
  }
  const strategy = flags.strategy ?? DEFAULT_STRATEGY;
  if (flags.depth !== undefined && strategy !== 'pct' && strategy !== 'mix') throw new UsageError('--depth applies to --strategy pct or mix only');
  if (flags.depth !== undefined && flags.depth > MAX_DEPTH) throw new UsageError(`--depth: '${flags.depth}' is more than ${MAX_DEPTH}`);
  // One seed for the whole run, printed, so the run can be repeated exactly.
  const seed = flags.seed ?? (Date.now() ^ (Math.random() * 0x100000000)) | 0;
  return {
    explorer, seed, runs: flags.runs ?? DEFAULT_RUNS, strategy, depth: flags.depth ?? DEFAULT_DEPTH, workers: flags.workers ?? 1,
    ...(flags.shorten !== undefined ? { shorten: flags.shorten } : {}),
    ...lockdep,
  };
}

/** Compile every design first, so a malformed one is reported before any exploring. */
function compileAll(sources: readonly DesignSource[]): { program: Program; module: string }[] {
  return sources.flatMap((src) =>
    src.designs.map((d) => ({ program: compileOrExplain(d, src.label), module: src.module })),
  );
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
  // A shard of a buggy design may own none of its bugs: only a violation of another kind, or a bound, is a mismatch (kdefer merge judges the whole).
  if (v.shard && v.expected !== 'verified') return v.status === 'verified' || (v.status === 'violation' && v.violation?.kind === v.expected);
  if (v.expected === 'verified') return v.status === 'verified';
  return v.status === 'violation' && v.violation?.kind === v.expected;
}

/** `violation: deadlock`, `verified`, `bounded-out`. */
function verdictText(v: Verdict): string {
  return v.violation ? `${v.status}: ${v.violation.kind}` : v.status;
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
          shortened: v.violation.shortened,
          foundLength: v.violation.foundLength,
        }
      : null,
    bounds: v.bounds,
    stats: {
      states: v.stats.states,
      transitions: v.stats.transitions,
      ms: v.stats.ms,
      ...(v.stats.parallelism !== undefined ? { parallelism: v.stats.parallelism } : {}),
      ...(v.stats.transient !== undefined ? { transient: v.stats.transient } : {}),
      ...(v.stats.reductions !== undefined ? { reductions: v.stats.reductions } : {}),
      ...(v.stats.shortening !== undefined ? { shortening: v.stats.shortening } : {}),
    },
    explorer: v.explorer,
    kernel: v.kernel,
    asExpected: asExpected(v),
    boundedOut: v.boundedOut,
    ...(v.bound !== undefined ? { bound: v.bound } : {}),
    ...(v.hint !== undefined ? { hint: v.hint } : {}),
    ...(v.seed !== undefined ? { seed: v.seed } : {}),
    ...(v.random ? { random: v.random } : {}),
    assumptions: v.assumptions,
    ...(v.shard ? { shard: v.shard } : {}),
  };
}

/** The verdict as JSON with its lockdep entries (scripts/cli/lockdep.ts). */
function verdictWithLockdepJson(v: Verdict, report: boolean): object {
  return { ...verdictJson(v), lockdep: lockdepJson(v, report) };
}

/** A grown variant as JSON: `{ bound, from, to, status, violation, assumed, … }`. */
function growJson(o: GrowOutcome): object {
  const v = o.verdict;
  return {
    bound: o.bound,
    from: o.from,
    to: o.to,
    status: v.status,
    violation: v.violation
      ? { kind: v.violation.kind, message: v.violation.message, choices: v.violation.choices, trace: v.violation.trace, ...(v.violation.cycle ? { cycle: v.violation.cycle } : {}) }
      : null,
    assumed: o.assumed,
    boundedOut: v.boundedOut,
    bounds: v.bounds,
    stats: { states: v.stats.states, transitions: v.stats.transitions, ms: v.stats.ms },
  };
}

/** How a random search found its violation: `found by run 37 of 1000 (pct, depth 3 under mix), 2345 runs/s; seed 42, fast-check path 36:2:1`. */
function foundLine(v: Verdict): string {
  const r = v.random!;
  const spec = r.runStrategy ? (r.runStrategy.strategy === 'pct' ? `pct, depth ${r.runStrategy.depth}` : r.runStrategy.strategy) : r.strategy;
  const under = r.strategy === 'mix' ? ' under mix' : '';
  return `found by run ${r.run} of ${v.bounds.runs} (${spec}${under}), ${r.runsPerSecond} runs/s; seed ${v.seed}, fast-check path ${r.path}`;
}

/** What the explorer did, once above the table. */
function explorerLine(opts: CheckOptions): string {
  if (opts.explorer === 'random') {
    const how = opts.strategy === 'pct' || opts.strategy === 'mix' ? `${opts.strategy}, PCT depth ${opts.depth}` : opts.strategy;
    return `random search (${how}): ${opts.runs} schedules per design, seed ${opts.seed} ` +
      `(repeat with --seed ${opts.seed}; sampling finds bugs, it proves nothing)`;
  }
  const off = switchedOff(opts);
  if (opts.shard) {
    return `exhaustive search, shard ${opts.shard.index}/${opts.shard.count}: every schedule within the bounds that starts with one of this shard's prefixes, ` +
      `at most ${opts.maxStates ?? DEFAULT_MAX_STATES} states per design (kdefer merge combines the ${opts.shard.count} shards' --json results into one verdict)` +
      (off.length > 0 ? ` (${off.join(', ')})` : '');
  }
  const memory = opts.maxMemory !== undefined ? ` and ${bytesText(opts.maxMemory)} of memory` : '';
  return `exhaustive search: every schedule within the bounds, at most ${opts.maxStates ?? DEFAULT_MAX_STATES} states${memory} per design` +
    (off.length > 0 ? ` (${off.join(', ')})` : '');
}

/** The reductions switched off, as their flags. */
function switchedOff(opts: CheckOptions): string[] {
  return (['por', 'symmetry', 'fusion'] as const).filter((r) => opts[r] === false).map((r) => `--no-${r}`);
}

/** `por (pruned 12 transitions in 5 states), fusion (40 transient states), symmetry (cpu1=cpu2)`: what the search's reductions did. */
export function reductionsText(v: Verdict): string | null {
  const r = v.stats.reductions;
  if (!r) return null;
  const n = (x: number) => x.toLocaleString('en-US');
  const parts: string[] = [];
  if (r.por) {
    const pruned = r.prunedTransitions !== undefined ? `pruned ${n(r.prunedTransitions)} transitions in ${n(r.reducedStates ?? 0)} states` : 'on';
    parts.push(`por (${pruned}${r.provisoExpansions ? `, ${n(r.provisoExpansions)} cycle-proviso expansions` : ''})`);
  } else parts.push('por off');
  if (r.fusion) {
    const t = v.stats.transient ?? 0;
    parts.push(`fusion (${n(t)} transient states passed through, ${n(v.stats.states)} of ${n(v.stats.states + t)} stored)`);
  } else parts.push('fusion off');
  const sym = r.symmetry;
  if (!sym) parts.push('symmetry off');
  else if (sym.orbits.length > 0) parts.push(`symmetry (interchangeable: ${sym.orbits.map((o) => o.map((c) => `cpu${c}`).join('=')).join(', ')})`);
  else parts.push(`symmetry off (${sym.why ?? 'no interchangeable CPUs'})`);
  return parts.join(', ');
}

/** "(shortest, by breadth-first search over 1,239 states in 62 ms; the search found 32 steps)". */
function shortenedText(v: Verdict): string {
  const viol = v.violation!;
  const cost = v.stats.shortening;
  const found = viol.foundLength !== viol.choices.length ? `; the search found ${viol.foundLength}` : '';
  if (viol.shortened === 'bfs') {
    return `shortest, by breadth-first search${cost ? ` over ${cost.states.toLocaleString('en-US')} states in ${cost.ms} ms, ${bytesText(cost.bytes)}` : ''}${found}`;
  }
  if (viol.shortened.startsWith('ddmin (')) {
    const spent = cost ? ` after ${cost.states.toLocaleString('en-US')} states in ${cost.ms} ms` : '';
    return `1-minimal by ddmin, not known to be shortest: the shortest-schedule search gave up${spent} at its ${viol.shortened.slice(7, -1)}${found}`;
  }
  if (viol.shortened === 'ddmin') return `1-minimal by ddmin${found}`;
  return `as found, not shortened${found}`;
}

/** The text report: explorer line, verdict table, each violation's story, the tally. */
export function report(verdicts: readonly Verdict[], opts: CheckOptions, lockdepReport = false): string[] {
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
  const searched = verdicts.flatMap((v) => (v.random ? [v.random] : []));
  if (searched.length > 0) {
    // Runs per second over all designs: each design's runs at its own rate.
    const runs = searched.reduce((n, r) => n + r.runs, 0);
    const seconds = searched.reduce((s, r) => s + (r.runsPerSecond > 0 ? r.runs / r.runsPerSecond : 0), 0);
    out.push('', `${runs} runs${seconds > 0 ? `, ${Math.round(runs / seconds)} runs/s` : ''} (shrinking aside; \`schedules\` counts shrink runs too)`);
  }

  for (const v of verdicts) {
    if (v.violation) {
      const viol = v.violation;
      out.push('', `${v.design}: ${viol.kind}${asExpected(v) ? ' (as expected)' : ' (NOT as expected)'}`);
      out.push(...viol.message.split('\n').map((l) => `  ${l}`));
      out.push(`  within ${boundsText(v.bounds)}`);
      if (v.random?.run) out.push(`  ${foundLine(v)}`);
      // A shortest schedule is the rule (README: Verdicts); anything else is said.
      const how = viol.shortened === 'bfs' ? '' : ` (${shortenedText(v)})`;
      out.push(`  schedule, ${viol.trace.length} step${viol.trace.length === 1 ? '' : 's'}${how}:`);
      const digits = String(viol.trace.length).length;
      viol.trace.forEach((label, i) => out.push(`  ${String(i + 1).padStart(digits + 2)}  ${label}`));
    } else if (v.status === 'bounded-out') {
      out.push('', `${v.design}: bounded-out${asExpected(v) ? '' : ' (NOT as expected)'}`, `  ${v.boundedOut ?? 'a bound was reached'}`, `  within ${boundsText(v.bounds)}`);
      if (v.hint) out.push(`  ${v.hint.text}`);
      const reductions = reductionsText(v);
      if (reductions) out.push(`  reductions: ${reductions}`);
    }
    if (v.shard) {
      out.push('', `${v.design}: shard ${v.shard.index}/${v.shard.count} searched ${v.shard.prefixes} of ${v.shard.frontier} prefixes of ${v.shard.prefixLength} steps` +
        `${v.shard.index === 0 ? ' and the expansion that made them' : ''} (partition ${v.shard.fingerprint}, kdefer ${v.shard.version})`);
    }
    out.push(...lockdepLines(v, lockdepReport));
  }

  const assuming = verdicts.filter((v) => v.assumptions.length > 0);
  if (assuming.length > 0) {
    out.push('', 'assumptions declared by the designs (beyond their bounds):');
    for (const v of assuming) out.push(`  ${v.design}: ${assumptionsText(v.assumptions)}`);
  }

  // Every design's reductions, when some were switched off (the JSON stats always have them).
  const reduced = verdicts.filter((v) => v.stats.reductions);
  if (reduced.length > 0 && switchedOff(opts).length > 0) {
    out.push('', 'reductions:');
    for (const v of reduced) out.push(`  ${v.design}: ${reductionsText(v)}`);
  }

  const missed = verdicts.filter((v) => !asExpected(v)).map((v) => v.design);
  const total = `${verdicts.length} design${verdicts.length === 1 ? '' : 's'}`;
  const tally = missed.length === 0
    ? `${total}: ${verdicts.length} as expected`
    : `${total}: ${verdicts.length - missed.length} as expected, ${missed.length} NOT as expected: ${missed.join(', ')}`;
  out.push('', tally);
  return out;
}

/** A grown variant's verdict in the grow table: `verified`, `violation: data-race (FLIP)`, `… (assumed)`, `bounded-out`. */
function growVerdictText(o: GrowOutcome): string {
  if (o.verdict.status !== 'violation') return o.verdict.status;
  return `${verdictText(o.verdict)} (${o.assumed ? 'assumed' : 'FLIP'})`;
}

/**
 * The --grow report: a table of every variant of every verified design,
 * then each flip with its schedule, each bounded-out variant with its reason,
 * and a tally line.
 */
function growReport(grown: readonly { design: string; outcomes: readonly GrowOutcome[] }[], steps: number, opts: CheckOptions): { lines: string[]; tally: string } {
  const out = [
    `grow: each verified design re-checked with one bound raised at a time, by 1${steps > 1 ? ` to ${steps}` : ''}; ` +
      `at most ${opts.maxStates ?? DEFAULT_MAX_STATES} states per variant`,
    '',
  ];
  // The design on every row, so that a row read alone (grep FLIP) says whose it is.
  const rows = grown.flatMap(({ design, outcomes }) => outcomes.map((o) => [
    design, o.bound, String(o.from), String(o.to), growVerdictText(o), String(o.verdict.stats.states), String(o.verdict.stats.ms),
  ]));
  out.push(...table(['design', 'bound', 'from', 'to', 'verdict', 'states', 'ms'], rows, new Set([2, 3, 5, 6])));
  for (const { design, outcomes } of grown) {
    for (const o of outcomes) {
      const v = o.verdict;
      const head = `${design}, ${o.bound} ${o.from} → ${o.to}`;
      if (v.violation) {
        const viol = v.violation;
        const why = o.assumed
          ? `assumed by the design: ${o.assumed.why}`
          : `FLIP: verified within the design's bounds, violated ${o.step === 1 ? 'one step' : `${o.step} steps`} beyond`;
        out.push('', `${head}: ${viol.kind} (${why})`);
        out.push(...viol.message.split('\n').map((l) => `  ${l}`));
        out.push(`  within ${boundsText(v.bounds)}`);
        out.push(`  schedule, ${viol.trace.length} step${viol.trace.length === 1 ? '' : 's'}:`);
        const digits = String(viol.trace.length).length;
        viol.trace.forEach((label, i) => out.push(`  ${String(i + 1).padStart(digits + 2)}  ${label}`));
      } else if (v.status === 'bounded-out') {
        out.push('', `${head}: bounded-out (not a flip: no proof either way)`, `  ${v.boundedOut ?? 'a bound was reached'}`);
      }
    }
  }
  out.push('');
  const all = grown.flatMap((g) => g.outcomes);
  const count = (f: (o: GrowOutcome) => boolean) => all.filter(f).length;
  const flips = grown.flatMap((g) => g.outcomes.filter(isUnassumedFlip).map((o) => `${g.design} (${o.bound} ${o.from} → ${o.to})`));
  const tally = `grow: ${all.length} variant${all.length === 1 ? '' : 's'} of ${grown.length} verified design${grown.length === 1 ? '' : 's'}: ` +
    `${count((o) => o.verdict.status === 'verified')} verified, ${count((o) => o.verdict.status === 'violation' && o.assumed !== null)} assumed flips, ` +
    `${count((o) => o.verdict.status === 'bounded-out')} bounded-out, ${flips.length} flip${flips.length === 1 ? '' : 's'}` +
    (flips.length > 0 ? `: ${flips.join(', ')}` : '');
  return { lines: out, tally };
}

// ---------------------------------------------------------------- the command

export async function runCheck(files: readonly string[], flags: CheckFlags, io: { readonly stderr?: ProgressStream } = {}): Promise<number> {
  if (flags.suite !== undefined || flags.filter !== undefined) return runSuiteCheck(files, flags);
  const opts = checkOptions(flags);
  const growSteps = flags.grow ?? 0;
  if (growSteps > 0 && opts.explorer === 'random') throw new UsageError('--grow needs the exhaustive explorer: only it verifies, and --grow re-checks verified designs');
  if (flags.all && files.length > 0) throw new UsageError('check takes design files or --all, not both');
  if (!flags.all && files.length === 0) throw new UsageError('check needs design files or --all (kdefer help check)');
  if (!flags.save && flags.saveDir !== undefined) throw new UsageError('--save-dir and --no-save contradict each other');
  if (flags.update && !flags.save) throw new UsageError('--update and --no-save contradict each other');

  const sources = flags.all ? [await loadCatalogue()] : [];
  for (const file of files) sources.push(await loadDesignFile(file));
  const saveDir = flags.save ? resolve(flags.saveDir ?? DEFAULT_SAVE_DIR) : null;
  const compiled = compileAll(sources);
  let found: Verdict[];
  if (opts.workers > 1) {
    // Worker threads: a random search's runs (checkProgramOn), or an exhaustive search that
    // outgrows the calling thread and goes on in the threads (checkProgramParallel, with the progress line).
    const random = opts.explorer === 'random' ? new RandomWorkers(opts.workers) : null;
    const exhaustive = random ? null : new ExhaustiveWorkers(opts.workers);
    const stream = io.stderr ?? process.stderr;
    const line = !random && ProgressLine.wanted(stream, flags.json ?? false) ? new ProgressLine(stream) : null;
    found = [];
    try {
      for (const { program } of compiled) {
        if (random) {
          found.push(await checkProgramOn(random, program, opts));
          continue;
        }
        line?.start(program.design.name);
        try {
          found.push(await checkProgramParallel(program, line ? { ...opts, progress: (pr) => line.update(pr) } : opts, exhaustive!));
        } finally {
          line?.clear();
        }
      }
    } finally {
      await random?.close();
      await exhaustive?.close();
    }
  } else {
    found = checkAll(compiled.map((c) => c.program), opts, io.stderr ?? process.stderr, flags.json ?? false);
  }
  const checked = compiled.map(({ program, module }, i) => ({ verdict: found[i]!, program, module }));
  const verdicts = checked.map((c) => c.verdict);

  // The verdicts come first: nothing that goes wrong while saving may lose them.
  // The tally stays the last line; what was saved is listed just above it.
  const lines = report(verdicts, opts, flags.lockdepReport ?? false);
  const tally = lines.pop()!;
  if (!flags.json) print(lines.join('\n'));
  // --grow: every verified design again, one bound raised at a time (model/explore/grow.ts).
  const grownOf = checked.map((c) => (growSteps === 0 || c.verdict.status !== 'verified' ? null : {
    design: c.verdict.design,
    outcomes: growCheck(c.program.design, growSteps, (variant) => checkProgram(compileOrExplain(variant, `${c.verdict.design} (grown)`), opts)),
  }));
  const grown = grownOf.filter((g) => g !== null);
  const growTally = growSteps === 0 ? null : growReport(grown, growSteps, opts);
  if (growTally && !flags.json) print(growTally.lines.join('\n'));
  const store = saveDir ? checked.map((c) => storeOne(saveDir, c, flags.update ?? false)) : [];
  if (flags.json) {
    print(JSON.stringify(verdicts.map((v, i) => ({
      ...verdictWithLockdepJson(v, flags.lockdepReport ?? false),
      ...(saveDir ? { counterexample: store[i]!.json } : {}),
      // Only verified designs are grown; the others have `grow: null`.
      ...(growSteps > 0 ? { grow: grownOf[i]?.outcomes.map(growJson) ?? null } : {}),
    })), null, 2));
  } else {
    const saved = store.flatMap((s) => s.lines.map((l) => `  ${l}`));
    print([...(saved.length > 0 ? ['counterexamples:', ...saved, ''] : []), ...(growTally ? [growTally.tally] : []), tally].join('\n'));
  }
  for (const s of store) for (const w of s.warnings) complain(`warning: ${w}`);
  const flipped = grown.some((g) => g.outcomes.some(isUnassumedFlip));
  return verdicts.every(asExpected) && !flipped ? EXIT_AS_EXPECTED : EXIT_NOT_AS_EXPECTED;
}

/**
 * Check each program in turn; on a terminal (and not under --json), with a
 * progress line on `stream`, erased before anything else is printed.
 */
export function checkAll(programs: readonly Program[], opts: CheckOptions, stream: ProgressStream, json: boolean): Verdict[] {
  const line = ProgressLine.wanted(stream, json) ? new ProgressLine(stream) : null;
  return programs.map((program) => {
    line?.start(program.design.name);
    try {
      return checkProgram(program, line ? { ...opts, progress: (p) => line.update(p) } : opts);
    } finally {
      line?.clear();
    }
  });
}

/**
 * `check --suite NAME`: a peer suite instead of designs. It checks its own
 * designs exhaustively and saves nothing, so the flags about design files,
 * the random explorer and saving do not apply.
 */
function runSuiteCheck(files: readonly string[], flags: CheckFlags): number {
  if (flags.suite === undefined) throw new UsageError('--filter applies to --suite only');
  if (files.length > 0 || flags.all) throw new UsageError('--suite runs its own designs: give no design files and no --all');
  const other = ([
    ['explorer', flags.explorer === 'random'], ['seed', flags.seed], ['runs', flags.runs], ['strategy', flags.strategy], ['depth', flags.depth],
    ['workers', flags.workers], ['save-dir', flags.saveDir], ['update', flags.update], ['grow', flags.grow], ['lockdep-report', flags.lockdepReport], ['no-lockdep', flags.lockdep === false || undefined],
  ] as const).find(([, value]) => value !== undefined && value !== false);
  if (other) throw new UsageError(`--${other[0]} does not apply to --suite (the suite is checked exhaustively and saves nothing)`);
  return runSuite(flags.suite, { ...(flags.json ? { json: true } : {}), ...(flags.maxStates !== undefined ? { maxStates: flags.maxStates } : {}), ...(flags.filter !== undefined ? { filter: flags.filter } : {}) });
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
    case 'kept': {
      const shorter = outcome.keptSteps! < cx!.schedule.length;
      lines.push(`kept ${shown(outcome.file!)} (it still reproduces, in ${outcome.keptSteps} steps against this run's ${cx!.schedule.length}; ` +
        `${shorter ? 'shorter, so --update keeps it too' : "--update replaces it with this run's schedule"})`);
      break;
    }
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
