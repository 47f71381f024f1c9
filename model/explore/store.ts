/**
 * The counterexample store: a folder of counterexample files (one per buggy
 * design and violation kind), kept in step with the designs.
 *
 * Rules, in order of importance:
 *  - nothing is written outside the folder: a file name is made from the
 *    design name with every character outside [A-Za-z0-9._-] replaced, and
 *    the resolved path must still lie inside the folder;
 *  - no torn and no duplicate files, even with two runs saving at once: a
 *    file is written whole under a temporary name, then hard-linked into
 *    place, which fails if the name is taken (then the contents are
 *    compared: an identical file is reused);
 *  - nothing is deleted or replaced unless asked (`update`): a file that no
 *    longer reproduces (the design or the model changed) is reported stale,
 *    and the new counterexample is not saved beside it;
 *  - a file that still reproduces its violation is kept as it is: a second
 *    schedule for the same bug is not saved next to it, and the same
 *    schedule found another way (other `found`, `minimizedFrom`) is the
 *    same file, unchanged.
 */
import { closeSync, fsyncSync, linkSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { Program } from '../kernel/program.ts';
import {
  checkChoicesInRange, CounterexampleError, formatCounterexample, parseCounterexample, replayCounterexample, type CounterexampleFile,
} from './counterexample.ts';

/** Longest file-name stem made from a design name. */
const MAX_STEM = 120;

/** A file-name stem for a design name: only [A-Za-z0-9._-], no leading dot, never empty. */
export function safeStem(name: string): string {
  const stem = name.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._]+/, '').slice(0, MAX_STEM);
  return stem === '' ? 'design' : stem;
}

/** `file` resolved, if it lies inside `dir`; throws otherwise (a kdefer bug: names are sanitised first). */
function inside(dir: string, file: string): string {
  const root = path.resolve(dir);
  const resolved = path.resolve(root, file);
  if (path.dirname(resolved) !== root) throw new Error(`kdefer internal error: ${file} would be saved outside ${root}`);
  return resolved;
}

/** A counterexample file found in the store. */
export interface StoredCounterexample {
  readonly file: string;
  readonly cx: CounterexampleFile;
}

/** The counterexample files in `dir` for the design named `name` (unreadable or foreign files are skipped). */
export function storedFor(dir: string, name: string): StoredCounterexample[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  const stem = safeStem(name);
  const out: StoredCounterexample[] = [];
  for (const entry of entries.sort()) {
    if (!entry.endsWith('.json') || !entry.startsWith(`${stem}.`)) continue;
    const file = path.join(dir, entry);
    try {
      const cx = parseCounterexample(readFileSync(file, 'utf8'), file);
      if (cx.design.name === name) out.push({ file, cx });
    } catch {
      // Not a counterexample of ours, or corrupt: `kdefer replay` says why; the store leaves it alone.
    }
  }
  return out;
}

/** Why a stored counterexample no longer holds for `p`, or null if it still reproduces its violation. */
export function staleness(stored: StoredCounterexample, p: Program): string | null {
  try {
    checkChoicesInRange(stored.cx, p, stored.file);
  } catch (e) {
    if (e instanceof CounterexampleError) return e.message.slice(stored.file.length + 2);
    throw e;
  }
  const r = replayCounterexample(stored.cx, p);
  return r.status === 'stale' ? r.problem : null;
}

/** What happened to one design's counterexamples. */
export interface StoreOutcome {
  /** The file holding this violation's counterexample now, if any. */
  readonly file: string | null;
  /**
   * saved: a new file; unchanged: a file with the same schedule and
   * violation was there (its record of how it was found may differ); kept:
   * another file still reproducing this kind was kept (with update, only
   * one whose schedule is shorter than this run's); blocked: not saved, because
   * stale files of the design are in the way (update replaces them); none:
   * there was nothing to save.
   */
  readonly action: 'saved' | 'unchanged' | 'kept' | 'blocked' | 'none';
  /** kept: the kept file's schedule length, in steps (this run's may be shorter, or longer: shortened at less cost). */
  readonly keptSteps?: number;
  /** Stale files of the design found (and, with update, removed), with why each is stale. */
  readonly stale: readonly { readonly file: string; readonly problem: string }[];
  /** Files removed (update only). */
  readonly removed: readonly string[];
}

/**
 * Bring the store in `dir` up to date for one checked design: `cx` is its
 * new counterexample, or null if the check found no violation. With
 * `update`, stale files of the design are removed and a changed
 * counterexample replaces the kept one, unless the kept one is shorter.
 */
export function storeCounterexample(dir: string, p: Program, cx: CounterexampleFile | null, opts: { readonly update?: boolean } = {}): StoreOutcome {
  const update = opts.update ?? false;
  const stored = storedFor(dir, p.design.name);
  const stale: { file: string; problem: string }[] = [];
  const valid: StoredCounterexample[] = [];
  for (const s of stored) {
    const problem = staleness(s, p);
    if (problem === null) valid.push(s);
    else stale.push({ file: s.file, problem });
  }
  const removed: string[] = [];
  const remove = (file: string) => {
    unlinkSync(file);
    removed.push(file);
  };
  if (update) for (const s of stale) remove(s.file);

  if (cx === null) {
    // Verified now: a counterexample that still reproduces would contradict that; only stale ones can exist.
    return { file: null, action: 'none', stale, removed };
  }
  const text = formatCounterexample(cx);
  // The same file, or the same schedule to the same violation found another way (how the search
  // met it, `found` and `minimizedFrom`, is a record of the run that saved it, not part of the bug).
  const schedule = JSON.stringify([cx.schedule, cx.violation]);
  const same = valid.find((s) => s.cx.violation.kind === cx.violation.kind
    && (formatCounterexample(s.cx) === text || JSON.stringify([s.cx.schedule, s.cx.violation]) === schedule));
  if (same) return { file: same.file, action: 'unchanged', stale, removed };
  const other = valid.find((s) => s.cx.violation.kind === cx.violation.kind);
  // A shorter schedule that still reproduces is kept even with update: this run's may be
  // longer because it was shortened at less cost (ddmin, or the BFS past its cost bound).
  if (other && (!update || other.cx.schedule.length < cx.schedule.length)) {
    return { file: other.file, action: 'kept', keptSteps: other.cx.schedule.length, stale, removed };
  }
  if (stale.length > 0 && !update) return { file: null, action: 'blocked', stale, removed };
  if (other) remove(other.file);
  return { file: writeNew(dir, `${safeStem(cx.design.name)}.${cx.violation.kind}`, text), action: 'saved', stale, removed };
}

/**
 * Write `text` into `dir` as `<base>.json`, or `<base>.2.json`… if the name
 * is taken by a different file; an identical file is reused. Atomic: the
 * text is complete on disk before the name appears.
 */
function writeNew(dir: string, base: string, text: string): string {
  mkdirSync(dir, { recursive: true });
  const tmp = inside(dir, `.${base}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`);
  const fd = openSync(tmp, 'wx');
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    for (let n = 1; ; n++) {
      const file = inside(dir, n === 1 ? `${base}.json` : `${base}.${n}.json`);
      if (place(tmp, file)) return file;
      if (readFileSync(file, 'utf8') === text) return file;
    }
  } finally {
    try {
      unlinkSync(tmp);
    } catch {
      // already moved into place by the rename fallback
    }
  }
}

/** Give `tmp` the name `file` unless `file` exists; false if it does. */
function place(tmp: string, file: string): boolean {
  try {
    linkSync(tmp, file);
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EXDEV' && code !== 'ENOSYS') throw e;
  }
  // A filesystem without hard links: rename, after making sure the name is free.
  try {
    readFileSync(file);
    return false;
  } catch {
    renameSync(tmp, file);
    return true;
  }
}

/** Save `cx` into `dir` as a new file, never overwriting one; an identical file is reused. */
export function saveCounterexample(dir: string, cx: CounterexampleFile): { file: string; reused: boolean } {
  const text = formatCounterexample(cx);
  const base = `${safeStem(cx.design.name)}.${cx.violation.kind}`;
  const before = new Set(storedFor(dir, cx.design.name).map((s) => s.file));
  const file = writeNew(dir, base, text);
  return { file, reused: before.has(file) };
}
