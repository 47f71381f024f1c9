/**
 * `kdefer merge`: combine the `--json` results of `kdefer check --shard i/N`
 * runs (one file per shard, each an array of verdicts, one per design) into
 * one verdict per design:
 *  - a violation if any shard has one: the shortest schedule (then fewest
 *    interrupts and preemptions, then fewest CPUs: minimize.ts
 *    compareSchedules), then the smallest shard index;
 *  - else bounded-out if any shard is, naming its bound and the shard;
 *  - else verified, only when all N shards are there and verified.
 * It refuses (exit 2, one line naming the files) shards of different
 * designs, bounds, kdefer versions, partitions or shard counts, a shard
 * given twice, and missing shards. It reads its files and writes nothing
 * but its report on stdout.
 */
import { readFileSync } from 'node:fs';
import { type Bounds, type ShardInfo, type Verdict, type VerdictViolation } from '../../model/index.ts';
import { compareSchedules } from '../../model/explore/minimize.ts';
import { asExpected, report } from './check.ts';
import { EXIT_AS_EXPECTED, EXIT_NOT_AS_EXPECTED, UsageError } from './errors.ts';
import { print } from './output.ts';

/** The flags of `merge`. */
export interface MergeFlags {
  readonly json?: boolean;
}

/** A shard's verdict as `check --shard i/N --json` writes it. */
type ShardVerdict = Verdict & { readonly shard: ShardInfo & { readonly fingerprint: string; readonly version: string } };

/** One shard verdict and the file it came from. */
interface Entry {
  readonly file: string;
  readonly verdict: ShardVerdict;
}

const STATUSES = ['verified', 'violation', 'bounded-out'];
const isWhole = (x: unknown, min: number): x is number => Number.isSafeInteger(x) && (x as number) >= min;
const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/** The problem with one entry of a result file, or null if it is a shard verdict merge can read. */
function entryProblem(x: unknown): string | null {
  if (!isObject(x)) return 'an entry is not an object';
  if ('error' in x && !('design' in x)) return `it holds an error, not a result: ${JSON.stringify((x.error as { message?: unknown } | null)?.message ?? x.error)}`;
  if (typeof x.design !== 'string') return 'an entry has no design name';
  const s = x.shard;
  if (s === undefined) return `'${x.design}' is not a shard's result (make one with kdefer check --shard i/N --json)`;
  if (!isObject(s) || !isWhole(s.count, 1) || !isWhole(s.index, 0) || s.index >= s.count || typeof s.fingerprint !== 'string' || typeof s.version !== 'string') {
    return `'${x.design}': its shard field is malformed`;
  }
  if (typeof x.fingerprint !== 'string' || !isObject(x.bounds) || !isObject(x.stats) || !STATUSES.includes(x.status as string)) {
    return `'${x.design}': not a kdefer check result (fingerprint, bounds, stats or status missing)`;
  }
  if (x.status === 'violation') {
    const v = x.violation;
    if (!isObject(v) || typeof v.kind !== 'string' || !Array.isArray(v.choices) || !v.choices.every((c) => Number.isSafeInteger(c)) || !Array.isArray(v.trace)) {
      return `'${x.design}': a violation without its kind, schedule or trace`;
    }
  }
  return null;
}

/** Every shard verdict of `file`, checked. */
function readResults(file: string): Entry[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(`${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'not a file' : `cannot read it (${code ?? (e as Error).message})`}`, file);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${file}: not JSON (${(e as Error).message}); merge reads the output of kdefer check --shard i/N --json`, file);
  }
  const list = Array.isArray(json) ? json : [json];
  if (list.length === 0) throw new UsageError(`${file}: holds no result`, file);
  for (const x of list) {
    const problem = entryProblem(x);
    if (problem !== null) throw new UsageError(`${file}: ${problem}`, file);
  }
  return (list as ShardVerdict[]).map((verdict) => ({ file, verdict }));
}

/** Stable JSON of a value (keys sorted), to compare bounds. */
function stable(x: unknown): string {
  if (Array.isArray(x)) return `[${x.map(stable).join(',')}]`;
  if (isObject(x)) return `{${Object.keys(x).sort().map((k) => `${JSON.stringify(k)}:${stable(x[k])}`).join(',')}}`;
  return JSON.stringify(x);
}

const shardName = (e: Entry): string => `${e.verdict.shard.index}/${e.verdict.shard.count}`;

/**
 * Why the shards of one design cannot be merged, or null. The checks go
 * from the most telling difference to the least, so the message names
 * what differs (a fingerprint alone would only say that something does).
 */
function mismatch(design: string, entries: readonly Entry[]): string | null {
  const first = entries[0]!;
  const differ = (what: string, key: (e: Entry) => string, show: (e: Entry) => string = key): string | null => {
    const other = entries.find((e) => key(e) !== key(first));
    return other
      ? `design '${design}': shards of different ${what}: ${first.file} (shard ${shardName(first)}) has ${show(first)}, ${other.file} (shard ${shardName(other)}) has ${show(other)}`
      : null;
  };
  return differ('kdefer versions', (e) => e.verdict.shard.version)
    ?? differ('designs (the design changed between the runs)', (e) => e.verdict.fingerprint, (e) => `design fingerprint ${e.verdict.fingerprint}`)
    ?? differ('bounds', (e) => stable(e.verdict.bounds), (e) => stable(e.verdict.bounds))
    ?? differ('shard counts', (e) => String(e.verdict.shard.count), (e) => `${e.verdict.shard.count} shards`)
    ?? differ('partitions (another kdefer build, or symmetry reduction switched on in one and off in the other)', (e) => e.verdict.shard.fingerprint, (e) => `partition ${e.verdict.shard.fingerprint}`);
}

/** The shards given twice and the shards missing, or null. */
function coverage(design: string, entries: readonly Entry[]): string | null {
  const count = entries[0]!.verdict.shard.count;
  const seen = new Map<number, Entry>();
  for (const e of entries) {
    const before = seen.get(e.verdict.shard.index);
    if (before) return `design '${design}': shard ${shardName(e)} is given twice (${before.file} and ${e.file})`;
    seen.set(e.verdict.shard.index, e);
  }
  const missing = Array.from({ length: count }, (_, i) => i).filter((i) => !seen.has(i));
  if (missing.length === 0) return null;
  return `design '${design}': missing shard${missing.length === 1 ? '' : 's'} ${missing.map((i) => `${i}/${count}`).join(', ')} ` +
    `(given: ${[...seen.keys()].sort((a, b) => a - b).map((i) => `${i}/${count}`).join(', ')}); a verdict needs all ${count}`;
}

/** The one verdict of a design's complete, consistent set of shards. */
function mergeDesign(entries: readonly Entry[]): Verdict & { readonly merged: object } {
  const sorted = [...entries].sort((a, b) => a.verdict.shard.index - b.verdict.shard.index);
  const first = sorted[0]!.verdict;
  const count = first.shard.count;
  const violating = sorted.filter((e) => e.verdict.status === 'violation');
  violating.sort((a, b) => compareSchedules(a.verdict.violation!.choices, b.verdict.violation!.choices) || a.verdict.shard.index - b.verdict.shard.index);
  const bounded = sorted.find((e) => e.verdict.status === 'bounded-out');
  const chosen = violating[0] ?? bounded ?? null;
  const status: Verdict['status'] = violating.length > 0 ? 'violation' : bounded ? 'bounded-out' : 'verified';
  let boundedOut: string | null = null;
  if (status === 'bounded-out') {
    const why = bounded!.verdict.boundedOut ?? 'a bound was reached';
    const name = `shard ${shardName(bounded!)}`;
    boundedOut = why.includes(name) ? why : `${why} (${name})`;
  }
  const parallel = sorted.map((e) => e.verdict.stats.parallelism).filter((n): n is number => typeof n === 'number');
  const violation = status === 'violation' ? (chosen!.verdict.violation as VerdictViolation) : null;
  return {
    design: first.design,
    fingerprint: first.fingerprint,
    expected: first.expected ?? null,
    status,
    explorer: 'exhaustive',
    kernel: typeof first.kernel === 'string' ? first.kernel : String(first.bounds.profile ?? ''),
    bounds: first.bounds as Bounds,
    stats: {
      states: sorted.reduce((n, e) => n + e.verdict.stats.states, 0),
      transitions: sorted.reduce((n, e) => n + e.verdict.stats.transitions, 0),
      ms: sorted.reduce((n, e) => n + e.verdict.stats.ms, 0),
      ...(parallel.length > 0 ? { parallelism: Math.max(...parallel) } : {}),
    },
    violation: violation ? { ...violation, foundLength: violation.choices.length } : null,
    boundedOut,
    assumptions: (first as { assumptions?: Verdict['assumptions'] }).assumptions ?? [],
    merged: {
      shards: count,
      partition: first.shard.fingerprint,
      version: first.shard.version,
      ...(chosen ? { from: { shard: chosen.verdict.shard.index, file: chosen.file } } : {}),
      files: [...new Set(sorted.map((e) => e.file))],
    },
  };
}

/** The merged verdict as JSON, in check --json's key order. */
function mergedJson(v: Verdict & { readonly merged: object }): object {
  return {
    design: v.design,
    fingerprint: v.fingerprint,
    expected: v.expected ?? null,
    status: v.status,
    violation: v.violation
      ? { kind: v.violation.kind, message: v.violation.message, cpu: v.violation.cpu, context: v.violation.context, choices: v.violation.choices, trace: v.violation.trace, ...(v.violation.cycle ? { cycle: v.violation.cycle } : {}) }
      : null,
    bounds: v.bounds,
    stats: v.stats,
    explorer: v.explorer,
    asExpected: asExpected(v),
    boundedOut: v.boundedOut,
    merged: v.merged,
  };
}

export async function runMerge(files: readonly string[], flags: MergeFlags): Promise<number> {
  if (files.length === 0) throw new UsageError('merge needs the --json results of kdefer check --shard i/N (kdefer help merge)');
  const entries = files.flatMap(readResults);
  const byDesign = new Map<string, Entry[]>();
  for (const e of entries) byDesign.set(e.verdict.design, [...(byDesign.get(e.verdict.design) ?? []), e]);
  // Every problem of every design is checked before anything is printed.
  for (const [design, list] of byDesign) {
    const problem = mismatch(design, list) ?? coverage(design, list);
    if (problem !== null) throw new UsageError(problem);
  }
  const verdicts = [...byDesign.values()].map(mergeDesign);
  if (flags.json) {
    print(JSON.stringify(verdicts.map(mergedJson), null, 2));
  } else {
    const lines = report(verdicts, { explorer: 'exhaustive' });
    lines[0] = `merged: ${verdicts.length} design${verdicts.length === 1 ? '' : 's'} from ${files.length} shard result${files.length === 1 ? '' : 's'}; ` +
      'states and ms are the sums over the shards (a state reachable from several shards counts once in each)';
    print(lines.join('\n'));
  }
  return verdicts.every(asExpected) ? EXIT_AS_EXPECTED : EXIT_NOT_AS_EXPECTED;
}
