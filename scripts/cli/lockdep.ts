/**
 * lockdep on the command line: the lines and JSON of a verdict's lockdep
 * entries (what lockdep predicts over the explored executions, each settled
 * by the search: model/check/lockdep.ts, model/check/lockdep-confirm.ts),
 * and `kdefer check --suite lockdep`, the agreement table of lockdep's own
 * self-tests (model/suites/lockdep-selftests.ts).
 */
import type { LockdepEntry, Verdict } from '../../model/index.ts';
import { DEFAULT_MAX_STATES } from '../../model/explore/exhaustive.ts';
import { LOCKDEP_SELFTESTS, runLockdepSuite, type SelftestCase, type SelftestResult } from '../../model/suites/lockdep-selftests.ts';
import { EXIT_AS_EXPECTED, EXIT_NOT_AS_EXPECTED, UsageError } from './errors.ts';
import { print } from './output.ts';

// ------------------------------------------------------- a verdict's entries

/** `12 steps on 1 CPU`, `9 steps on 3 CPUs (t2 → cpu2)`. */
function scheduleText(e: LockdepEntry): string {
  const s = e.schedule!;
  const moved = s.moved.length > 0 ? ` (${s.moved.join(', ')})` : '';
  return `${s.trace.length} step${s.trace.length === 1 ? '' : 's'} on ${s.cpus} CPU${s.cpus === 1 ? '' : 's'}${moved}`;
}

/** How a settlement reads at the head of its line. */
const STATUS_TEXT: Record<LockdepEntry['status'], string> = {
  'confirmed': 'confirmed',
  'not-reachable': 'not reachable (a lockdep false positive within the bounds)',
  'not-decided': 'not decided',
};

/**
 * The lines under a verdict that has lockdep entries: a head line, then one
 * line per entry (its settlement, lockdep's header, the classes, the
 * reason; a confirmed one with its schedule's length and CPUs, and the
 * schedule itself when it is not the verdict's own). `report`: lockdep's
 * whole report under each entry. Nothing if lockdep predicts nothing (or
 * did not run).
 */
export function lockdepLines(v: Verdict, report: boolean): string[] {
  const entries = v.lockdep ?? [];
  if (entries.length === 0) return [];
  const out = ['', `${v.design}: lockdep predicts ${entries.length} problem${entries.length === 1 ? '' : 's'}`];
  for (const e of entries) {
    let line = `  ${STATUS_TEXT[e.status]}: ${e.title} (${e.classes.join(', ')}): ${e.reason}`;
    const own = e.schedule && v.violation && e.schedule.cpus === v.bounds.cpus && e.schedule.choices.join() === v.violation.choices.join();
    if (e.schedule) line += `; ${scheduleText(e)}${own ? ', the schedule above' : ''}`;
    out.push(line);
    if (e.schedule && !own) {
      const digits = String(e.schedule.trace.length).length;
      e.schedule.trace.forEach((label, i) => out.push(`  ${String(i + 1).padStart(digits + 2)}  ${label}`));
    }
    if (report) out.push(...e.report.split('\n').map((l) => (l === '' ? '' : `    ${l}`)));
  }
  return out;
}

/**
 * A verdict's lockdep entries as JSON: `null` where lockdep did not run (a
 * random search in worker threads), else one object per entry; lockdep's
 * long report text only with `report` (--lockdep-report).
 */
export function lockdepJson(v: Verdict, report: boolean): object[] | null {
  if (v.lockdep === undefined) return null;
  return v.lockdep.map((e) => ({
    kind: e.kind,
    title: e.title,
    classes: e.classes,
    status: e.status,
    reason: e.reason,
    schedule: e.schedule
      ? { cpus: e.schedule.cpus, moved: e.schedule.moved, steps: e.schedule.trace.length, choices: e.schedule.choices, trace: e.schedule.trace, violation: e.schedule.violation }
      : null,
    ...(report ? { report: e.report } : {}),
  }));
}

// ------------------------------------------------------------- the suite

/** The suites `kdefer check --suite` runs. */
export const SUITES = ['lockdep'] as const;

/** The flags `check --suite` takes, as the command table parses them. */
export interface SuiteFlags {
  readonly json?: boolean;
  readonly maxStates?: number;
  readonly filter?: string;
}

/** The cases a --filter selects: its text in the case's type and label (`spin A-B-B-A deadlock`) or its design's name. */
function selected(filter: string | undefined): (c: SelftestCase) => boolean {
  if (filter === undefined) return () => true;
  return (c) => `${c.column} ${c.label}`.includes(filter) || c.design.name.includes(filter);
}

/**
 * `kdefer check --suite lockdep`: every in-scope case of
 * lib/locking-selftest.c (or those --filter selects), lockdep's expected
 * result beside kdefer's prediction and what the search confirmed; the
 * table, or `{cases, totals}` with --json. Exit 0 if every case agrees.
 */
export function runSuite(suite: string, flags: SuiteFlags): number {
  if (suite !== 'lockdep') throw new UsageError(`--suite: '${suite}' is not a suite (${SUITES.join(', ')})`);
  const keep = selected(flags.filter);
  if (!LOCKDEP_SELFTESTS.some(keep)) throw new UsageError(`--filter: no case of the lockdep suite matches '${flags.filter}' (kdefer check --suite lockdep lists them)`);
  const run = runLockdepSuite({ ...(flags.maxStates !== undefined ? { maxStates: flags.maxStates } : {}), select: keep });
  if (flags.json) {
    print(JSON.stringify(run, null, 2));
  } else {
    print(suiteReport(run.cases, flags).join('\n'));
  }
  return run.totals.agree === run.totals.cases ? EXIT_AS_EXPECTED : EXIT_NOT_AS_EXPECTED;
}

/** The agreement table, the notes (a not-reachable case's reason, a disagreement's why) and the tally. */
function suiteReport(cases: readonly SelftestResult[], flags: SuiteFlags): string[] {
  const out = [
    `lockdep's self-tests (lib/locking-selftest.c)${flags.filter !== undefined ? `, the cases matching '${flags.filter}'` : ''}: ` +
      `lockdep's expected result, kdefer's prediction, and what the search confirmed; at most ${flags.maxStates ?? DEFAULT_MAX_STATES} states per design`,
    '',
  ];
  const rows = cases.map((c) => [c.label, c.column, c.expected, c.predicted, c.confirmed, c.agree ? 'OK' : 'DISAGREE']);
  const width = ['case', 'type', 'lockdep', 'predicted', 'confirmed', ''].map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => c.padEnd(width[i]!)).join('  ').trimEnd();
  out.push(line(['case', 'type', 'lockdep', 'predicted', 'confirmed', '']), ...rows.map(line));
  const notes = cases.filter((c) => c.note !== '');
  if (notes.length > 0) {
    out.push('', 'notes:');
    for (const c of notes) out.push(`  ${c.column} ${c.label}: ${c.agree ? `${c.confirmed}: ` : 'DISAGREES: '}${c.note}`);
  }
  const disagree = cases.filter((c) => !c.agree);
  const agree = cases.length - disagree.length;
  const total = `${cases.length} case${cases.length === 1 ? '' : 's'}: ${agree} agree${agree === 1 ? 's' : ''} with lockdep`;
  out.push('', disagree.length === 0 ? total : `${total}, ${disagree.length} DISAGREE: ${disagree.map((c) => `${c.column} ${c.label}`).join(', ')}`);
  return out;
}
