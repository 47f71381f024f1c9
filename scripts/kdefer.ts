/**
 * The kdefer command line.
 *
 *   kdefer check <design-file>... [--json] [--explorer exhaustive|random]
 *                [--seed N] [--runs N] [--max-states N]
 *   kdefer check --all [--json] [...]
 *   kdefer replay <counterexample.json> [--json]
 *   kdefer help
 *
 * `check` imports each design file, checks every design it exports (or the
 * whole catalogue with --all) and prints a verdict table, or one JSON array
 * with --json. Exit status: 0 when every verdict is as expected, 1 when one
 * is not, 2 on bad input (the problem on one line of stderr) or on an
 * internal error of kdefer itself. `check` saves a counterexample file for
 * each violation (counterexamples/ by default; never overwriting one);
 * `replay` re-runs one, label by label, and tells whether it still holds.
 *
 * Subcommands are entries of COMMANDS; a new one (replay, bench) is one more
 * entry.
 */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import {
  boundsText, checkProgram, profileText, compile, counterexampleOf, CounterexampleError, findDesign, parseCounterexample,
  replayCounterexample, safeStem, storeCounterexample, checkChoicesInRange, type StoreOutcome, type Bounds, type CheckOptions, type Design, type Program, type Verdict,
} from '../model/index.ts';
import { DEFAULT_MAX_STATES } from '../model/explore/exhaustive.ts';
import { lockdepReport } from '../model/report/lockdep.ts';
import { perfettoTrace } from '../model/report/perfetto.ts';
import { traceText } from '../model/report/trace.ts';
import { DEFAULT_RUNS } from '../model/explore/random.ts';

/** Every verdict as expected. */
const EXIT_AS_EXPECTED = 0;
/** At least one verdict not as expected. */
const EXIT_NOT_AS_EXPECTED = 1;
/** Bad input (flag, file, design) or an internal error. */
const EXIT_BAD_INPUT = 2;

/**
 * A mistake in what the user gave: a flag, a file, a design. Its message is
 * one line naming the culprit; it is printed after `kdefer: `.
 */
class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** A subcommand: `run` returns the exit status and throws UsageError on bad input. */
interface Command {
  readonly usage: string;
  readonly summary: string;
  run(args: readonly string[]): Promise<number>;
}

// ---------------------------------------------------------------- arguments

const CHECK_FLAGS = {
  all: { type: 'boolean' },
  json: { type: 'boolean' },
  explorer: { type: 'string' },
  seed: { type: 'string' },
  runs: { type: 'string' },
  'max-states': { type: 'string' },
  'save-dir': { type: 'string' },
  'no-save': { type: 'boolean' },
  update: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies NonNullable<ParseArgsConfig['options']>;

const REPLAY_FLAGS = {
  json: { type: 'boolean' },
  perfetto: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies NonNullable<ParseArgsConfig['options']>;

/** Where `check` saves counterexamples unless told otherwise. */
const DEFAULT_SAVE_DIR = 'counterexamples';

/** Flags and positionals of `args`, with node's parse errors turned into one-line UsageErrors. */
function parseFlags<O extends NonNullable<ParseArgsConfig['options']>>(args: readonly string[], options: O) {
  try {
    return parseArgs({ args: [...args], options, allowPositionals: true, strict: true });
  } catch (e) {
    const code = (e as { code?: string }).code;
    const message = (e as Error).message;
    const flag = /'(-[^'\s]*)/.exec(message)?.[1] ?? '';
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') throw new UsageError(`unknown flag ${flag} (kdefer help check lists the flags)`);
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      const name = /--([\w-]+)/.exec(message)?.[1];
      const option = name ? options[name] : undefined;
      if (option?.type === 'boolean') throw new UsageError(`--${name} takes no value`);
      // node refuses `--seed -5` as ambiguous: the value looks like a flag.
      const hint = message.includes('ambiguous') ? ` (write --${name}=VALUE for a value starting with '-')` : '';
      throw new UsageError(`--${name ?? '?'} needs a value${hint}`);
    }
    throw new UsageError(message.split('\n')[0]!);
  }
}

/** A whole number ≥ `min` given to `--flag`. */
function wholeNumber(flag: string, text: string, min: number): number {
  const n = /^-?\d+$/.test(text.trim()) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < min) throw new UsageError(`--${flag}: '${text}' is not a whole number ≥ ${min}`);
  return n;
}

/** A fast-check seed: a 32-bit integer. */
function seedNumber(text: string): number {
  const n = /^-?\d+$/.test(text.trim()) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < -0x80000000 || n > 0xffffffff) {
    throw new UsageError(`--seed: '${text}' is not a 32-bit integer`);
  }
  return n | 0;
}

/** The explorer options the `check` flags ask for. */
function checkOptions(values: { explorer?: string; seed?: string; runs?: string; 'max-states'?: string }): CheckOptions {
  const explorer = values.explorer ?? 'exhaustive';
  if (explorer !== 'exhaustive' && explorer !== 'random') {
    throw new UsageError(`--explorer: '${explorer}' is not an explorer (exhaustive, random)`);
  }
  if (explorer === 'exhaustive') {
    for (const flag of ['seed', 'runs'] as const) {
      if (values[flag] !== undefined) throw new UsageError(`--${flag} applies to --explorer random only`);
    }
    return values['max-states'] === undefined
      ? { explorer }
      : { explorer, maxStates: wholeNumber('max-states', values['max-states'], 1) };
  }
  if (values['max-states'] !== undefined) throw new UsageError('--max-states applies to --explorer exhaustive only');
  // One seed for the whole run, printed, so the run can be repeated exactly.
  const seed = values.seed === undefined ? (Date.now() ^ (Math.random() * 0x100000000)) | 0 : seedNumber(values.seed);
  const runs = values.runs === undefined ? DEFAULT_RUNS : wholeNumber('runs', values.runs, 1);
  return { explorer, seed, runs };
}

// ---------------------------------------------------------------- designs

/** A named batch of designs: a design file, or the catalogue. */
interface DesignSource {
  /** As the user named it: the file path given, or `catalogue`. */
  readonly label: string;
  /** Absolute path of the module exporting the designs (recorded in counterexample files). */
  readonly module: string;
  readonly designs: readonly Design[];
}

/** A design by shape: a string `name`, a number of `cpus`, a list of `tasks`. */
function isDesign(x: unknown): x is Design {
  if (typeof x !== 'object' || x === null) return false;
  const d = x as Record<string, unknown>;
  return typeof d.name === 'string' && typeof d.cpus === 'number' && Array.isArray(d.tasks);
}

/** The designs an exported value holds: itself, or the elements of an array of designs. */
function designsIn(value: unknown): readonly Design[] {
  if (isDesign(value)) return [value];
  if (Array.isArray(value) && value.length > 0 && value.every(isDesign)) return value;
  return [];
}

/**
 * Sort exports by where they are declared in the module's source, so designs
 * come out in the order they are written (a module namespace, and esbuild's
 * CommonJS exports, list them alphabetically). Exports not found keep their
 * place after the others.
 */
function inDeclarationOrder(source: string, exports: readonly (readonly [string, unknown])[]): (readonly [string, unknown])[] {
  const at = (name: string): number => {
    const pattern = name === 'default'
      ? /\bexport\s+default\b/
      : new RegExp(`\\bexport\\s+(?:const|let|var|function\\*?|class)\\s+${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\b`);
    const m = pattern.exec(source);
    return m ? m.index : Number.MAX_SAFE_INTEGER;
  };
  const position = new Map(exports.map(([name]) => [name, at(name)]));
  return [...exports].sort(([a], [b]) => position.get(a)! - position.get(b)!);
}

/** One line out of an error thrown while importing `path`: its message and, if found, where in the file. */
function importProblem(e: unknown, path: string): string {
  if (!(e instanceof Error)) return String(e);
  const lines = e.message.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  // esbuild: "Transform failed with 1 error:\n<file>:<line>:<col>: ERROR: <what>"
  if (/^Transform failed with \d+ errors?:$/.test(lines[0] ?? '')) return lines.slice(1).join('; ');
  const first = lines[0] ?? e.name;
  const url = pathToFileURL(path).href;
  const frame = (e.stack ?? '').split('\n').find((l) => l.includes(url) || l.includes(path));
  const position = frame && /:(\d+):(\d+)\)?\s*$/.exec(frame);
  return position ? `${first} (at line ${position[1]}:${position[2]})` : first;
}

/**
 * Import a design file and collect the designs it exports, in source order,
 * each once. A CommonJS-style module (a .ts file outside an ES-module
 * package) exports one object, `default`; its properties are looked into too.
 */
async function loadDesignFile(file: string): Promise<DesignSource> {
  const path = resolve(file);
  let isFile = false;
  try {
    isFile = statSync(path).isFile();
  } catch {
    throw new UsageError(`${file}: no such file`);
  }
  if (!isFile) throw new UsageError(`${file}: not a file`);
  let namespace: Record<string, unknown>;
  try {
    namespace = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (e) {
    if (e instanceof Error && e.name === 'DesignError') throw new UsageError(`${file}: ${e.message}`);
    throw new UsageError(`${file}: cannot import: ${importProblem(e, path)}`);
  }
  const commonjs = namespace.default;
  const unwrapped = typeof commonjs === 'object' && commonjs !== null && !Array.isArray(commonjs) && !isDesign(commonjs);
  const exports = inDeclarationOrder(readFileSync(path, 'utf8'), [
    ...Object.entries(namespace),
    ...(unwrapped ? Object.entries(commonjs) : []),
  ]);
  const designs: Design[] = [];
  for (const [, value] of exports) {
    for (const d of designsIn(value)) if (!designs.includes(d)) designs.push(d);
  }
  if (designs.length === 0) {
    const seen = exports.map(([name]) => name).filter((n) => n !== 'default' || !unwrapped);
    throw new UsageError(
      `${file}: exports no design (a design is an object with a string 'name', a number 'cpus' and a 'tasks' list; ` +
        `exports seen: ${seen.join(', ') || 'none'})`,
    );
  }
  return { label: file, module: path, designs };
}

const CATALOGUE_MODULE = resolve(dirname(new URL(import.meta.url).pathname), '../model/designs/index.ts');

/** The catalogue, imported only when asked for. */
async function loadCatalogue(): Promise<DesignSource> {
  const { CATALOGUE } = await import('../model/designs/index.ts');
  return { label: 'catalogue', module: CATALOGUE_MODULE, designs: CATALOGUE };
}

/** Compile every design first, so a malformed one is reported before any exploring. */
function compileAll(sources: readonly DesignSource[]): { program: Program; module: string }[] {
  return sources.flatMap((src) =>
    src.designs.map((d) => ({ program: compileOrExplain(d, src.label), module: src.module })),
  );
}

function compileOrExplain(d: Design, label: string): Program {
  try {
    return compile(d);
  } catch (e) {
    if (e instanceof Error && e.name === 'DesignError') throw new UsageError(`${label}: ${e.message}`);
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
function asExpected(v: Verdict): boolean {
  if (v.expected === null || v.expected === undefined) return v.status !== 'violation';
  if (v.expected === 'verified') return v.status === 'verified';
  return v.status === 'violation' && v.violation?.kind === v.expected;
}

/** `violation: deadlock`, `verified`, `bounded-out`. */
function verdictText(v: Verdict): string {
  return v.violation ? `${v.status}: ${v.violation.kind}` : v.status;
}

/** "2 CPUs, eth0≤2, loops≤4, preempt": the bounds in a table cell (the profile has its own column). */
function compactBounds(b: Bounds): string {
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
function table(header: readonly string[], rows: readonly (readonly string[])[], right: ReadonlySet<number>): string[] {
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

// ---------------------------------------------------------------- commands

const CHECK_USAGE = `usage: kdefer check <design-file>... [flags]
       kdefer check --all [flags]

Checks every design a file exports (a design, or an array of designs), or
with --all the catalogue (model/designs), and prints a verdict table.

  --json                 one JSON array, one object per design, instead of the table
  --explorer exhaustive  every schedule within the bounds (default): proves or refutes
  --explorer random      sampled schedules, shrunk to a minimal counterexample
  --seed N               random: the seed (default: a fresh one, printed)
  --runs N               random: schedules per design (default ${DEFAULT_RUNS})
  --max-states N         exhaustive: distinct states before giving up as
                         bounded-out (default ${DEFAULT_MAX_STATES})
  --save-dir DIR         where to save a counterexample file per violation
                         (default ./${DEFAULT_SAVE_DIR}); never overwrites a file
  --update               replace the design's stale counterexamples (ones that no
                         longer reproduce) and kept ones with this run's; without
                         it, stale files are reported and nothing is deleted
  --no-save              save nothing

Exit status: 0 every verdict as expected, 1 some verdict not as expected,
2 bad input (flag, file, design) or an internal error.`;

async function runCheck(args: readonly string[]): Promise<number> {
  const { values, positionals } = parseFlags(args, CHECK_FLAGS);
  if (values.help) {
    console.log(CHECK_USAGE);
    return EXIT_AS_EXPECTED;
  }
  const opts = checkOptions(values);
  if (values.all && positionals.length > 0) throw new UsageError('check takes design files or --all, not both');
  if (!values.all && positionals.length === 0) throw new UsageError('check needs design files or --all (kdefer help check)');

  const sources = values.all ? [await loadCatalogue()] : [];
  for (const file of positionals) sources.push(await loadDesignFile(file));
  if (values['no-save'] && values['save-dir'] !== undefined) throw new UsageError('--save-dir and --no-save contradict each other');
  if (values.update && values['no-save']) throw new UsageError('--update and --no-save contradict each other');
  const saveDir = values['no-save'] ? null : resolve(values['save-dir'] ?? DEFAULT_SAVE_DIR);
  const checked = compileAll(sources).map(({ program, module }) => ({ verdict: checkProgram(program, opts), program, module }));
  const verdicts = checked.map((c) => c.verdict);

  // The verdicts come first: nothing that goes wrong while saving may lose them.
  // The tally stays the last line; what was saved is listed just above it.
  const lines = report(verdicts, opts);
  const tally = lines.pop()!;
  if (!values.json) console.log(lines.join('\n'));
  const store = saveDir ? checked.map((c) => storeOne(saveDir, c, values.update ?? false)) : [];
  if (values.json) {
    console.log(JSON.stringify(verdicts.map((v, i) => ({ ...verdictJson(v), ...(saveDir ? { counterexample: store[i]!.json } : {}) })), null, 2));
  } else {
    const saved = store.flatMap((s) => s.lines.map((l) => `  ${l}`));
    console.log([...(saved.length > 0 ? ['counterexamples:', ...saved, ''] : []), tally].join('\n'));
  }
  for (const s of store) for (const w of s.warnings) console.error(`kdefer: warning: ${w}`);
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

const REPLAY_USAGE = `usage: kdefer replay <counterexample.json> [--json] [--perfetto out.json]

Re-runs a saved counterexample's schedule on its design, checking each
step's label against the model, and prints the trace: one column per CPU
with each context frame, the locks held and the irq/bh state, then the
violation in lockdep's own report format where lockdep has one. A file whose
design or model has changed is reported stale, naming the first step that
differs.

  --json           one JSON object: {file, design, status, step, problem, violation, trace}
  --perfetto FILE  also write a Chrome/Perfetto trace-event file (open it in
                   ui.perfetto.dev): a track per CPU, nested context slices,
                   lock holds as slices; never overwrites an existing file

Exit status: 0 the counterexample reproduces its violation, 1 it is stale,
2 bad input (unreadable or corrupt file, missing design) or an internal error.`;

async function runReplay(args: readonly string[]): Promise<number> {
  const { values, positionals } = parseFlags(args, REPLAY_FLAGS);
  if (values.help) {
    console.log(REPLAY_USAGE);
    return EXIT_AS_EXPECTED;
  }
  if (positionals.length !== 1) throw new UsageError('replay needs exactly one counterexample file (kdefer help replay)');
  const file = positionals[0]!;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new UsageError(`${file}: cannot read the file`);
  }
  let cx;
  try {
    cx = parseCounterexample(text, file);
  } catch (e) {
    if (e instanceof CounterexampleError) throw new UsageError(e.message);
    throw e;
  }
  const modulePath = resolve(dirname(resolve(file)), cx.design.module);
  const source = await loadDesignFile(modulePath).catch((e: unknown) => {
    if (e instanceof UsageError) throw new UsageError(`${file}: its design module ${cx.design.module}: ${e.message.replace(`${modulePath}: `, '')}`);
    throw e;
  });
  const design = findDesign(Object.fromEntries(source.designs.map((d, i) => [String(i), d])), cx.design.name) as Design | undefined;
  if (!design) throw new UsageError(`${file}: design '${cx.design.name}' is not exported by ${cx.design.module} (renamed or removed)`);
  const program = compileOrExplain(design, file);
  try {
    checkChoicesInRange(cx, program, file);
  } catch (e) {
    if (e instanceof CounterexampleError) throw new UsageError(e.message);
    throw e;
  }
  const result = replayCounterexample(cx, program);
  const trace = result.replay?.steps.map((st) => st.label) ?? [];
  const choices = result.replay?.steps.map((st) => st.choice) ?? [];
  if (values.perfetto !== undefined) {
    try {
      writeFileSync(values.perfetto, `${JSON.stringify(perfettoTrace(program, choices))}\n`, { flag: 'wx' });
    } catch (e) {
      const why = (e as NodeJS.ErrnoException).code === 'EEXIST' ? 'already exists (kdefer never overwrites a file)' : (e as Error).message;
      throw new UsageError(`--perfetto ${values.perfetto}: ${why}`);
    }
  }
  if (values.json) {
    console.log(JSON.stringify({
      file, design: cx.design.name, status: result.status,
      step: result.status === 'stale' ? result.step : null,
      problem: result.status === 'stale' ? result.problem : null,
      violation: result.status === 'reproduced' ? { kind: result.replay.violation!.kind, message: result.replay.violation!.message } : null,
      trace,
    }, null, 2));
  } else {
    const out = [`${file}: design '${cx.design.name}', ${cx.schedule.length} steps, recorded ${cx.violation.kind}`, ''];
    if (result.status === 'reproduced') {
      out.push(traceText(program, choices), '');
      const violation = result.replay.violation!;
      const lockdep = lockdepReport(program, choices, violation);
      if (lockdep) out.push(lockdep, '');
      out.push(`reproduced: ${violation.kind}`, ...violation.message.split('\n').map((l) => `  ${l}`));
    } else {
      trace.forEach((label, i) => out.push(`  ${String(i + 1).padStart(3)}  ${label}`));
      out.push('', `STALE: ${result.problem}`);
    }
    console.log(out.join('\n'));
  }
  return result.status === 'reproduced' ? EXIT_AS_EXPECTED : EXIT_NOT_AS_EXPECTED;
}

const COMMANDS: Readonly<Record<string, Command>> = {
  check: {
    usage: CHECK_USAGE,
    summary: 'check design files, or the catalogue with --all',
    run: runCheck,
  },
  replay: {
    usage: REPLAY_USAGE,
    summary: 'replay a saved counterexample and print its trace',
    run: runReplay,
  },
  help: {
    usage: 'usage: kdefer help [command]',
    summary: 'this text, or a command\'s',
    run: async (args) => {
      const command = args[0] === undefined ? undefined : COMMANDS[args[0]];
      if (args[0] !== undefined && !command) throw new UsageError(`help: unknown command '${args[0]}' (commands: ${Object.keys(COMMANDS).join(', ')})`);
      console.log(command ? command.usage : usage());
      return EXIT_AS_EXPECTED;
    },
  },
};

function usage(): string {
  const names = Object.keys(COMMANDS);
  const width = Math.max(...names.map((n) => n.length));
  return [
    'kdefer: model checking of Linux kernel deferred work (hard irqs, softirqs, spinlocks)',
    '',
    'usage: kdefer <command> [args]',
    '',
    ...names.map((n) => `  ${n.padEnd(width)}  ${COMMANDS[n]!.summary}`),
    '',
    'kdefer help <command> tells more.',
  ].join('\n');
}

/** Run the command line `args` (without node and script); returns the exit status. */
async function main(args: readonly string[]): Promise<number> {
  try {
    const [name, ...rest] = args;
    if (name === undefined || name === '--help' || name === '-h') return await COMMANDS.help!.run([]);
    const command = COMMANDS[name];
    if (!command) throw new UsageError(`unknown command '${name}' (commands: ${Object.keys(COMMANDS).join(', ')})`);
    return await command.run(rest);
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`kdefer: ${e.message}`);
    } else if (e instanceof Error && e.message.startsWith('kdefer limit:')) {
      // A design beyond what the model can represent (e.g. too many nested read locks): bad input, not a crash.
      console.error(`kdefer: ${e.message.split('\n')[0]}`);
    } else {
      const message = e instanceof Error ? e.message : String(e);
      console.error(`kdefer internal error: ${message.replace(/^kdefer internal error:\s*/, '').split('\n')[0]}`);
      if (process.env.KDEFER_DEBUG && e instanceof Error) console.error(e.stack);
    }
    return EXIT_BAD_INPUT;
  }
}

process.exitCode = await main(process.argv.slice(2));
