/**
 * npm run bench: kdefer against SPIN on the three reference scenarios of
 * ../shared/bench/spin (irq_lock, softirq_bh, backlog), side by side in one
 * run, interleaved (each configuration runs kdefer, then SPIN, one process
 * at a time), then kdefer's start-up against `node -e 0`
 * (scripts/bench-startup.ts). Speed targets live here, never in npm test.
 *
 *   npm run bench -- --random [...]   random search: scripts/bench-random.ts
 *   npm run bench                       N = 2, 3, 4 at K = 2, buggy and fixed, plus irq_lock N=4 K=3 fixed
 *   npm run bench -- --json             only a JSON array on stdout (progress on stderr)
 *   npm run bench -- --json-out FILE    the table on stdout, and the JSON array written to a new FILE
 *   npm run bench -- --quick            N = 2, 3 only (no N=4, no K=3 row)
 *   npm run bench -- --cpus 2,3         only these N
 *   npm run bench -- --filter backlog   only configurations whose name contains the text
 *                                       (e.g. irq_lock, fixed, backlog-buggy-n3, k3)
 *   npm run bench -- --no-spin          kdefer only (also when spin or gcc is missing)
 *   npm run bench -- --max-states N --max-seconds S
 *                                       kdefer's cap per run (default 20M states, 600 s):
 *                                       past it the run is bounded-out, never a hang
 *   npm run bench -- --workers N        kdefer's threads (default: the cores, as the kdefer command)
 *   npm run bench -- --no-startup       skip the start-up figures (--startup runs them with --json, on stderr)
 *   npm run bench -- --catalogue [--repeat N] [--filter s]
 *                                       the former mode: exhaustive throughput on every catalogue design
 *
 * kdefer's side runs in a child node process per configuration
 * (scripts/bench-child.mjs), on the compiled kdefer in dist/ (built first if
 * stale), the JavaScript the `kdefer` command runs; its peak MB is that
 * run's own: the process's RSS high-water mark (getrusage ru_maxrss, node,
 * its threads and the model's code included), read after the search. Its
 * ms is compile() + the search inside that process, as `kdefer check` runs
 * it: in one thread up to 10,000 states, then on that thread and worker
 * threads with a shared visited set (model/explore/workers.ts; as many
 * threads as cores by default, --workers N), the threads' start-up included (node's own start-up is not
 * counted; scripts/bench-startup.ts measures it). A buggy design's verdict
 * is the kind of the violation found (on the threads, found again in one
 * thread, as kdefer reports it); the bench does not shorten the schedule.
 *
 * SPIN's side copies the .pml into a temporary directory and runs, as the
 * README of ../shared/bench/spin does: `spin -DN=n -DK=k [-DIRQS=1] [-DBUGGY]
 * -a X.pml`, `gcc -O2 -DSAFETY -DMEMLIM=16000 -o pan pan.c`,
 * `./pan -m100000 -w24` (-w27 for K=3). Its ms is the three commands as a
 * whole (the compile included); its peak MB is pan's RSS high-water mark
 * (GNU time's %M when /usr/bin/time exists, else pan's "total actual memory
 * usage"). pan's verdict: errors 0 is `verified`, "invalid end state" is
 * `deadlock`, "assertion violated (X)" is the kind kdefer gives the same
 * check (SPIN_ASSERTIONS below), a depth or memory limit is `bounded-out`.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { BENCH_SCENARIOS } from '../model/designs/bench/index.ts';
import { CATALOGUE } from '../model/designs/index.ts';
import { compile } from '../model/dsl/compile.ts';
import { exhaustive } from '../model/explore/exhaustive.ts';
import { defaultWorkers, SERIAL_STATES } from '../model/explore/workers.ts';
import { benchStartup, STARTUP_TARGET_MS } from './bench-startup.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** The hand-written Promela models (read-only in CI; copied before use). */
export const SPIN_DIR = join(ROOT, '..', 'shared', 'bench', 'spin');

type Scenario = keyof typeof BENCH_SCENARIOS;
const SCENARIOS = Object.keys(BENCH_SCENARIOS) as Scenario[];

/** One configuration: a scenario at N CPUs and K iterations, buggy or fixed. */
export interface BenchConfig {
  readonly scenario: Scenario;
  readonly cpus: number;
  readonly k: number;
  readonly buggy: boolean;
}

/** One tool's figures for a configuration. `verdict` is 'verified', a violation kind, 'bounded-out' or 'error'. */
export interface ToolResult {
  readonly verdict: string;
  readonly states: number;
  readonly transitions: number;
  readonly ms: number;
  readonly peakMB: number;
  /** Why: the bound hit, the assertion pan reports, or the error. */
  readonly note?: string;
}

const configName = (c: BenchConfig): string => `${c.scenario}-${c.buggy ? 'buggy' : 'fixed'}-n${c.cpus}-k${c.k}`;

/** The bench's configurations in the order they run. */
export function benchConfigs(cpus: readonly number[], withK3: boolean): BenchConfig[] {
  const out: BenchConfig[] = [];
  for (const n of cpus) {
    for (const scenario of SCENARIOS) {
      for (const buggy of [true, false]) out.push({ scenario, cpus: n, k: 2, buggy });
    }
  }
  if (withK3) out.push({ scenario: 'irq_lock', cpus: 4, k: 3, buggy: false });
  return out;
}

// ------------------------------------------------------------------ kdefer

/** The child that runs one configuration on the compiled kdefer (dist/), as the `kdefer` command runs. */
const CHILD = join(ROOT, 'scripts', 'bench-child.mjs');

/** Build dist/ if a source is newer (scripts/build.mjs), so the children run this checkout's code. */
function ensureBuilt(): void {
  const b = spawnSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs')], { encoding: 'utf8' });
  if (b.status !== 0) {
    console.error(`npm run bench: the build of dist/ failed:\n${(b.stdout + b.stderr).trim()}`);
    process.exit(2);
  }
}

/**
 * kdefer on one configuration, in a child node process of its own running
 * the compiled JavaScript (not the TypeScript sources through tsx, whose
 * module transform makes every imported constant a getter call: about
 * twice the time on the same search).
 */
function runKdefer(c: BenchConfig, maxStates: number, maxSeconds: number, workers: number): ToolResult {
  const t0 = performance.now();
  const child = spawnSync(process.execPath, [CHILD, JSON.stringify({ c, maxStates, maxSeconds, workers })], {
    encoding: 'utf8',
    maxBuffer: 1 << 24,
  });
  const line = child.stdout.trim().split('\n').pop() ?? '';
  if (child.status === 0 && line.startsWith('{')) return JSON.parse(line) as ToolResult;
  const why = child.signal ? `killed by ${child.signal}` : `exit ${child.status}`;
  const err = (child.stderr || '').trim().split('\n').slice(-3).join(' / ');
  return { verdict: 'error', states: 0, transitions: 0, ms: performance.now() - t0, peakMB: 0, note: `kdefer child ${why}: ${err}` };
}

// ------------------------------------------------------------------ SPIN

/**
 * The checks of each .pml, by the text pan prints in "assertion violated
 * (text)", whitespace removed, and the violation kind kdefer gives the same
 * check. Anything else maps to 'assertion'.
 */
export const SPIN_ASSERTIONS: Readonly<Record<string, string>> = {
  // backlog.pml DELIVER: every packet delivered exactly once, in order (backlog.ts: the `ordering` invariant).
  '(x==rcv_nxt)': 'ordering',
  '(seq==rcv_nxt)': 'ordering',
  // softirq_bh.pml / backlog.pml at a CPU's end: a raised softirq never run, or bh left disabled.
  '(!(pending)&&(bh==0))': 'lost-softirq',
  '((!(pending)&&(bh==0))&&(ndeq==narrived))': 'lost-softirq',
  // Lock ownership at the critical sections: kdefer's lock ops check the owner (an unlock by another is lock-misuse).
  '(L==(_pid+1))': 'lock-misuse',
  '(slock==(_pid+1))': 'lock-misuse',
  // final_check: L still held at the end.
  '(L==0)': 'lock-leak',
  // The rest are design invariants in kdefer too ('assertion'): cnt == N*K, icnt == nirq_total,
  // rx == nsoft_total, rcv_nxt == P, owned == me+1 (not made by backlog.ts), the backlog empty at the end.
};

/** Which tools the SPIN side needs, and which of them are missing. */
export function spinMissing(): string[] {
  const missing: string[] = [];
  for (const [tool, arg] of [['spin', '-V'], ['gcc', '--version']] as const) {
    const r = spawnSync(tool, [arg], { encoding: 'utf8' });
    if (r.error || r.status !== 0) missing.push(tool);
  }
  if (!existsSync(SPIN_DIR)) missing.push(`the Promela models (${SPIN_DIR})`);
  return missing;
}

/** Parse pan's output into a verdict and figures. */
export function parsePan(out: string): { verdict: string; states: number; transitions: number; memMB: number | null; note?: string } {
  const num = (re: RegExp): number => {
    const m = re.exec(out);
    return m ? Math.round(Number(m[1])) : 0;
  };
  const states = num(/^\s*([\d.e+]+) states, stored/m);
  const transitions = num(/^\s*([\d.e+]+) transitions \(= stored\+matched\)/m);
  const mem = /^\s*([\d.]+)\s+total actual memory usage/m.exec(out);
  const memMB = mem ? Number(mem[1]) : null;
  const errors = /errors: (\d+)/.exec(out);
  const base = { states, transitions, memMB };
  // The error lines: `pan:1: invalid end state (at depth 27)`, `pan:1: assertion violated (seq==rcv_nxt) (at depth 60)`
  // (the header's "invalid end states +" lists what is checked, not an error).
  if (/^pan:\d+: invalid end state/m.test(out)) return { ...base, verdict: 'deadlock', note: 'invalid end state' };
  const a = /^pan:\d+: assertion violated (\(.*\)) \(at depth/m.exec(out);
  if (a) {
    const text = a[1]!;
    const key = text.replace(/\s+/g, '');
    return { ...base, verdict: SPIN_ASSERTIONS[key] ?? 'assertion', note: `assertion violated ${text}` };
  }
  if (/max search depth too small|reached -DMEMLIM bound|out of memory/.test(out)) {
    const why = /(max search depth too small|reached -DMEMLIM bound|out of memory)/.exec(out)![1]!;
    return { ...base, verdict: 'bounded-out', note: why };
  }
  if (errors && errors[1] === '0' && states > 0) return { ...base, verdict: 'verified' };
  return { ...base, verdict: 'error', note: `unrecognised pan output: ${out.trim().split('\n').slice(-3).join(' / ')}` };
}

/** SPIN on one configuration: spin -a, gcc, pan, timed as a whole. */
function runSpin(c: BenchConfig): ToolResult & { panSeconds: number } {
  const dir = mkdtempSync(join(tmpdir(), 'kdefer-bench-spin-'));
  const fail = (ms: number, note: string) => ({ verdict: 'error', states: 0, transitions: 0, ms, peakMB: 0, panSeconds: 0, note });
  try {
    const pml = `${c.scenario}.pml`;
    copyFileSync(join(SPIN_DIR, pml), join(dir, pml));
    const defines = [`-DN=${c.cpus}`, `-DK=${c.k}`, ...(c.scenario === 'softirq_bh' ? ['-DIRQS=1'] : []), ...(c.buggy ? ['-DBUGGY'] : [])];
    const gnuTime = existsSync('/usr/bin/time');
    const t0 = performance.now();
    const a = spawnSync('spin', [...defines, '-a', pml], { cwd: dir, encoding: 'utf8' });
    if (a.status !== 0) return fail(performance.now() - t0, `spin -a failed: ${(a.stderr || a.stdout).trim()}`);
    const g = spawnSync('gcc', ['-O2', '-DSAFETY', '-DMEMLIM=16000', '-o', 'pan', 'pan.c'], { cwd: dir, encoding: 'utf8' });
    if (g.status !== 0) return fail(performance.now() - t0, `gcc failed: ${g.stderr.trim().split('\n').slice(0, 3).join(' / ')}`);
    const panArgs = ['-m100000', c.k >= 3 ? '-w27' : '-w24'];
    const pan = gnuTime
      ? spawnSync('/usr/bin/time', ['-f', '%M', '-o', 'rss.txt', './pan', ...panArgs], { cwd: dir, encoding: 'utf8', maxBuffer: 1 << 24 })
      : spawnSync('./pan', panArgs, { cwd: dir, encoding: 'utf8', maxBuffer: 1 << 24 });
    const ms = performance.now() - t0;
    const out = `${pan.stdout}\n${pan.stderr}`;
    const parsed = parsePan(out);
    const rssKB = gnuTime && existsSync(join(dir, 'rss.txt')) ? Number(readFileSync(join(dir, 'rss.txt'), 'utf8').trim().split('\n').pop()) : NaN;
    const peakMB = Number.isFinite(rssKB) && rssKB > 0 ? rssKB / 1024 : (parsed.memMB ?? 0);
    const elapsed = /elapsed time ([\d.e+]+) seconds/.exec(out);
    return {
      verdict: parsed.verdict,
      states: parsed.states,
      transitions: parsed.transitions,
      ms,
      peakMB,
      panSeconds: elapsed ? Number(elapsed[1]) : NaN,
      ...(parsed.note ? { note: parsed.note } : {}),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ------------------------------------------------------------------ output

export interface BenchRow {
  readonly design: string;
  readonly cpus: number;
  readonly k: number;
  readonly kdefer: { verdict: string; states: number; ms: number; peakMB: number };
  readonly spin: { verdict: string; states: number; ms: number; peakMB: number } | null;
}

const fmtInt = (n: number): string => (n > 0 ? Math.round(n).toLocaleString('en-US') : '-');
const fmtMs = (ms: number): string => (ms >= 10_000 ? Math.round(ms).toLocaleString('en-US') : ms.toFixed(ms >= 100 ? 0 : 1));
const ratio = (a: number, b: number): string => (a > 0 && b > 0 ? (a / b >= 10 ? (a / b).toFixed(0) : a / b >= 0.1 ? (a / b).toFixed(2) : (a / b).toFixed(3)) : '-');

function table(header: readonly string[], rows: readonly (readonly string[])[], leftCols: number): string {
  const width = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i >= leftCols ? c.padStart(width[i]!) : c.padEnd(width[i]!))).join('  ').trimEnd();
  return [line(header), line(width.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** Verdicts agree when both tools give the same verdict (bounded-out or an error never agrees). */
const agree = (a: string, b: string | undefined): string =>
  b === undefined ? '' : a === b && a !== 'bounded-out' && a !== 'error' ? 'yes' : 'NO';

// ------------------------------------------------------------------ the former mode

function catalogueMode(repeatArg: string | undefined, filter: string | undefined): void {
  const repeat = Math.max(1, Number(repeatArg ?? 3) | 0);
  const designs = CATALOGUE.filter((d) => !filter || d.name.includes(filter));
  const rows: string[][] = [];
  let totalStates = 0;
  let totalMs = 0;
  for (const d of designs) {
    const p = compile(d);
    let best = Infinity;
    let r = exhaustive(p);
    for (let i = 0; i < repeat; i++) {
      const t0 = performance.now();
      r = exhaustive(p);
      best = Math.min(best, performance.now() - t0);
    }
    totalStates += r.stats.states;
    totalMs += best;
    rows.push([d.name, r.status, String(r.stats.states), String(r.stats.transitions), best.toFixed(1), best > 0 ? String(Math.round(r.stats.states / (best / 1000))) : '-']);
  }
  console.log(`kdefer exhaustive search, best of ${repeat} runs per design, node ${process.version}`);
  console.log(table(['design', 'verdict', 'states', 'transitions', 'ms (best)', 'states/s'], rows, 2));
  console.log(`\n${designs.length} designs, ${totalStates} states in ${totalMs.toFixed(0)} ms: ${Math.round(totalStates / (totalMs / 1000))} states/s overall`);
}

// ------------------------------------------------------------------ main

function main(): void {
  const { values } = parseArgs({
    options: {
      catalogue: { type: 'boolean' },
      repeat: { type: 'string' },
      filter: { type: 'string' },
      json: { type: 'boolean' },
      'json-out': { type: 'string' },
      quick: { type: 'boolean' },
      cpus: { type: 'string' },
      'no-spin': { type: 'boolean' },
      'max-states': { type: 'string' },
      'max-seconds': { type: 'string' },
      workers: { type: 'string' },
      startup: { type: 'boolean' },
      'no-startup': { type: 'boolean' },
    },
  });
  if (values.catalogue) {
    catalogueMode(values.repeat, values.filter);
    return;
  }
  const positive = (flag: string, text: string | undefined, dflt: number): number => {
    if (text === undefined) return dflt;
    const n = Number(text);
    if (!Number.isFinite(n) || n <= 0) {
      console.error(`npm run bench: --${flag} wants a positive number, got '${text}'`);
      process.exit(2);
    }
    return n;
  };
  const maxStates = Math.floor(positive('max-states', values['max-states'], 20_000_000));
  const maxSeconds = positive('max-seconds', values['max-seconds'], 600);
  const workers = values.workers === undefined ? defaultWorkers() : Math.floor(positive('workers', values.workers, 1));
  let cpus = values.quick ? [2, 3] : [2, 3, 4];
  if (values.cpus !== undefined) {
    cpus = values.cpus.split(',').map((s) => Number(s.trim()));
    if (cpus.some((n) => !Number.isInteger(n) || n < 1 || n > 8)) {
      console.error(`npm run bench: --cpus wants a list of CPU counts from 1 to 8 (e.g. 2,3), got '${values.cpus}'`);
      process.exit(2);
    }
  }
  const configs = benchConfigs(cpus, !values.quick && cpus.includes(4)).filter((c) => !values.filter || configName(c).includes(values.filter));
  if (configs.length === 0) {
    console.error(`npm run bench: no configuration matches${values.filter ? ` --filter ${values.filter}` : ''} at N = ${cpus.join(', ')}`);
    process.exit(2);
  }
  const json = values.json === true;
  const say = (s: string) => (json ? process.stderr : process.stdout).write(`${s}\n`);
  const missing = values['no-spin'] ? [] : spinMissing();
  const withSpin = !values['no-spin'] && missing.length === 0;
  if (missing.length > 0) {
    say(`SPIN side skipped: ${missing.join(', ')} not found (apt-get install -y spin gcc). Printing kdefer's side only.`);
  }
  say(
    `kdefer${withSpin ? ' vs SPIN' : ''} on the reference scenarios of ../shared/bench/spin, node ${process.version}, ` +
      `kdefer cap ${maxStates.toLocaleString('en-US')} states / ${maxSeconds} s per run, ${workers} thread${workers === 1 ? '' : 's'}; load average ${readLoad()}`,
  );

  ensureBuilt();
  const rows: BenchRow[] = [];
  const printed: string[][] = [];
  const notes: string[] = [];
  for (const c of configs) {
    const name = configName(c);
    if (!json) process.stdout.write(`  ${name} ...`);
    else process.stderr.write(`  ${name} ...`);
    const kd = runKdefer(c, maxStates, maxSeconds, workers);
    const sp = withSpin ? runSpin(c) : null;
    const progress = ` kdefer ${kd.verdict} ${fmtInt(kd.states)} states ${fmtMs(kd.ms)} ms${sp ? `; SPIN ${sp.verdict} ${fmtInt(sp.states)} states ${fmtMs(sp.ms)} ms` : ''}\n`;
    (json ? process.stderr : process.stdout).write(progress);
    const design = BENCH_SCENARIOS[c.scenario]({ cpus: c.cpus, k: c.k, buggy: c.buggy }).name;
    const round = (t: ToolResult) => ({ verdict: t.verdict, states: t.states, ms: Math.round(t.ms), peakMB: Math.round(t.peakMB) });
    rows.push({ design, cpus: c.cpus, k: c.k, kdefer: round(kd), spin: sp ? round(sp) : null });
    if (kd.note && kd.verdict !== 'deadlock' && kd.verdict !== 'ordering') notes.push(`${name} kdefer: ${kd.note}`);
    if (sp?.note && sp.verdict !== kd.verdict) notes.push(`${name} SPIN: ${sp.note}`);
    printed.push([
      name,
      kd.verdict,
      fmtInt(kd.states),
      fmtInt(kd.transitions),
      fmtMs(kd.ms),
      kd.peakMB.toFixed(0),
      ...(sp
        ? [sp.verdict, fmtInt(sp.states), fmtInt(sp.transitions), fmtMs(sp.ms), Number.isFinite(sp.panSeconds) ? sp.panSeconds.toFixed(2) : '-', sp.peakMB.toFixed(0),
          ratio(kd.states, sp.states), ratio(kd.ms, sp.ms), ratio(kd.peakMB, sp.peakMB), agree(kd.verdict, sp.verdict)]
        : []),
    ]);
  }

  if (values['json-out'] !== undefined) {
    if (existsSync(values['json-out'])) say(`not written: ${values['json-out']} exists (the bench never overwrites a file)`);
    else writeFileSync(values['json-out'], `${JSON.stringify(rows, null, 2)}\n`);
  }
  if (json) {
    process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
  } else {
    const header = [
      'configuration', 'kdefer verdict', 'states', 'transitions', 'ms', 'peak MB',
      ...(withSpin ? ['SPIN verdict', 'states', 'transitions', 'ms', 'pan s', 'peak MB', 'states k/S', 'ms k/S', 'MB k/S', 'agree'] : []),
    ];
    console.log('');
    console.log(table(header, printed, withSpin ? 2 : 2));
    console.log('');
    console.log(`kdefer: ms = compile() + the exhaustive search as the kdefer command runs it (in one thread up to ${SERIAL_STATES.toLocaleString('en-US')} states, ${workers === 1 ? 'and beyond: --workers 1' : `then on ${workers} threads, this one and ${workers - 1} worker${workers === 2 ? '' : 's'}: --workers`}) in a child node process; peak MB = that process's RSS high-water mark (node, its threads and the compiled model included).`);
    if (withSpin) {
      console.log('SPIN: ms = spin -a + gcc -O2 -DSAFETY + ./pan -m100000 -w24 (-w27 for K=3), as a whole; pan s = pan\'s own elapsed time;');
      console.log('      peak MB = pan\'s RSS high-water mark (its hash table alone is 128 MB at -w24, 1 GB at -w27). k/S = kdefer / SPIN.');
    }
    for (const n of notes) console.log(`note: ${n}`);
    if (withSpin) targets(rows);
  }
  const startup = json ? values.startup === true : values['no-startup'] !== true;
  if (startup) {
    const { baseline, rows: srows } = benchStartup();
    const out = json ? process.stderr : process.stdout;
    out.write(`\nkdefer start-up, median of 9 runs; node -e 0 takes ${baseline.toFixed(0)} ms here\n`);
    const width = Math.max(...srows.map((r) => r.what.length));
    for (const r of srows) {
      const flag = r.ms <= STARTUP_TARGET_MS ? '' : `  over the ${STARTUP_TARGET_MS} ms target`;
      out.write(`  ${r.what.padEnd(width)}  ${r.ms.toFixed(0).padStart(5)} ms  ${r.ratio.toFixed(2).padStart(5)} × node -e 0${flag}\n`);
    }
  }
}

/** The issue's targets, checked on the rows measured in this run. */
function targets(rows: readonly BenchRow[]): void {
  const n4 = rows.filter((r) => r.cpus === 4 && r.k === 2 && r.spin);
  const lines: string[] = [];
  for (const r of n4) {
    const s = r.spin!;
    const wall = r.kdefer.ms < s.ms ? 'holds' : 'does not hold';
    const states = r.kdefer.verdict === 'bounded-out' ? 'does not hold (bounded-out)' : r.kdefer.states < s.states ? 'holds' : 'does not hold';
    lines.push(`  ${r.design}: wall below SPIN's ${wall} (${fmtMs(r.kdefer.ms)} vs ${fmtMs(s.ms)} ms); fewer states ${states} (${fmtInt(r.kdefer.states)} vs ${fmtInt(s.states)})`);
  }
  const k3 = rows.find((r) => r.cpus === 4 && r.k === 3 && r.spin);
  if (k3) {
    const ok = k3.kdefer.verdict === 'verified' && k3.kdefer.ms < 0.1 * k3.spin!.ms;
    lines.push(`  ${k3.design}: verified in under 10% of SPIN's time ${ok ? 'holds' : 'does not hold'} (kdefer ${k3.kdefer.verdict} in ${fmtMs(k3.kdefer.ms)} ms, SPIN ${fmtMs(k3.spin!.ms)} ms)`);
  }
  if (lines.length > 0) console.log(`\nissue 8 targets, this run:\n${lines.join('\n')}`);
}

function readLoad(): string {
  try {
    return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  } catch {
    return 'unknown';
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  if (process.argv.slice(2).includes('--random')) await import('./bench-random.ts');
  else main();
}
