/**
 * `kdefer check`'s search flags and what it says while and after it
 * searches: --max-memory (a bounded-out naming the bound, with the likely
 * cause), --no-por / --no-symmetry / --no-fusion (the reductions line and
 * the JSON stats), how a schedule was shortened (--shorten), and the progress line
 * (on a terminal only, never under --json).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { check, compile, defineDesign, inc, minimize, spin_lock, spin_unlock, type Design } from '../model/index.ts';
import { CATALOGUE } from '../model/designs/index.ts';
import { checkAll } from '../scripts/cli/check.ts';
import { ProgressLine, PROGRESS_INTERVAL_MS, type ProgressStream } from '../scripts/cli/progress.ts';

const BIN = fileURLToPath(new URL('../dist/scripts/kdefer.js', import.meta.url));
const API = fileURLToPath(new URL('../model/index.ts', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'kdefer-cli-search-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const COUNTER = `import { defineDesign, inc, schedule_work } from ${JSON.stringify(API)};
export const counter = defineDesign({
  name: 'rearming-counter', cpus: 1, vars: { count: 0 },
  works: { w: { func: 'tick' } },
  functions: { tick: [inc('count'), schedule_work('w')] },
  tasks: [{ name: 'starter', cpu: 0, body: [schedule_work('w')] }],
});
`;
const AA = `import { defineDesign, inc, spin_lock, spin_unlock } from ${JSON.stringify(API)};
export const aa = defineDesign({
  name: 'aa-two-cpus', cpus: 2, locks: { L: 'spinlock' }, vars: { count: 0 },
  tasks: [
    { name: 'reader', cpu: 0, body: [spin_lock('L'), inc('count'), spin_unlock('L')] },
    { name: 'writer', cpu: 1, body: [spin_lock('L'), inc('count'), spin_unlock('L')] },
  ],
  irqs: [{ name: 'eth0', handler: [spin_lock('L'), inc('count'), spin_unlock('L')] }],
  expected: 'deadlock',
});
`;
const file = (name: string, text: string): string => {
  const path = join(scratch, name);
  writeFileSync(path, text);
  return path;
};
const counterFile = file('counter.ts', COUNTER);
/** The design of aa.ts, built here too. */
const aaDesign = defineDesign({
  name: 'aa-two-cpus', cpus: 2, locks: { L: 'spinlock' }, vars: { count: 0 },
  tasks: [
    { name: 'reader', cpu: 0, body: [spin_lock('L'), inc('count'), spin_unlock('L')] },
    { name: 'writer', cpu: 1, body: [spin_lock('L'), inc('count'), spin_unlock('L')] },
  ],
  irqs: [{ name: 'eth0', handler: [spin_lock('L'), inc('count'), spin_unlock('L')] }],
  expected: 'deadlock',
});
const aaFile = file('aa.ts', AA);

function kdefer(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args, '--no-save'], { cwd: scratch, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('kdefer check --max-memory, --max-states, --no-por, --no-symmetry, --no-fusion, --shorten', () => {
  it('--max-memory: bounded-out naming the memory bound, with the likely cause (JSON)', () => {
    const run = kdefer('check', counterFile, '--max-memory', '1K', '--no-fusion', '--json');
    expect(run.status).toBe(0);
    const [v] = JSON.parse(run.stdout);
    expect(v.status).toBe('bounded-out');
    expect(v.bound).toBe('memory');
    expect(v.boundedOut).toContain('against the bound of 1 KiB');
    expect(v.hint.words[0].name).toBe('var count');
  });

  it('the text report: the bound and the likely cause; how the schedule was shortened; the reductions line', () => {
    const run = kdefer('check', counterFile, aaFile, '--max-states', '1100', '--no-por', '--no-fusion');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^exhaustive search: every schedule within the bounds, at most 1100 states per design \(--no-por, --no-fusion\)$/m);
    expect(run.stdout).toMatch(/^rearming-counter: bounded-out$/m);
    expect(run.stdout).toMatch(/^ {2}state limit reached: more than 1100 distinct states/m);
    expect(run.stdout).toMatch(/^ {2}likely cause: the state words that took the most distinct values are var count \(\d+\)[;,]/m);
    expect(run.stdout).toMatch(/^ {2}schedule, \d+ steps:$/m);
    expect(run.stdout).toMatch(/^ {2}reductions: por off, fusion off, symmetry off \(one CPU\)$/m);
    expect(run.stdout).toMatch(/^ {2}aa-two-cpus: por off, fusion off, symmetry \(interchangeable: cpu0=cpu1\)$/m);
    expect(run.stdout).toMatch(/^ {2}rearming-counter: por off, fusion off, symmetry off \(one CPU\)$/m);
  });

  it('all reductions off: the same verdict as the API with them on; the JSON stats say what ran', () => {
    const off = JSON.parse(kdefer('check', aaFile, '--json', '--no-por', '--no-symmetry', '--no-fusion').stdout)[0];
    const on = check(aaDesign);
    expect([off.status, off.violation.kind, off.violation.choices]).toEqual([on.status, on.violation!.kind, on.violation!.choices]);
    expect(on.stats.reductions).toMatchObject({ por: true, fusion: true, symmetry: { orbits: [[0, 1]] } });
    expect(off.stats.reductions).toMatchObject({ por: false, fusion: false, symmetry: { why: 'switched off' } });
    expect(off.stats.states).toBeGreaterThan(on.stats.states);
    expect(off.violation.shortened).toBe('bfs');
  });

  it('--shorten ddmin and none: the schedule as delta debugging leaves it, or as found; auto (bfs within a cost bound) is the exhaustive explorer\'s', () => {
    // A bug the search meets at 30 steps: ddmin takes it to a 1-minimal schedule of 27, the BFS to a shortest of 3.
    const bug = CATALOGUE.find((d) => d.name === 'bench-irq_lock-buggy-n2-k2')!;
    const p = compile(bug);
    const asFound = check(bug, { shorten: 'none', lockdep: false });
    const ddmin = check(bug, { shorten: 'ddmin', lockdep: false });
    const bfs = check(bug, { lockdep: false });
    expect(asFound.violation!.shortened).toBe('none');
    expect(asFound.violation!.choices.length).toBe(asFound.violation!.foundLength);
    expect(ddmin.violation!.shortened).toBe('ddmin');
    expect(ddmin.violation!.choices).toEqual(minimize(p, asFound.violation!.choices, asFound.violation!.kind));
    expect(ddmin.stats.shortening).toMatchObject({ method: 'ddmin', states: 0 });
    expect(bfs.violation!.shortened).toBe('bfs');
    // auto (the default) is the BFS whenever it ends within its cost bound, as here; bfs the same without the bound.
    expect(check(bug, { shorten: 'bfs', lockdep: false }).violation!.choices).toEqual(bfs.violation!.choices);
    expect(check(bug, { shorten: 'auto', lockdep: false }).violation!.choices).toEqual(bfs.violation!.choices);
    expect(bfs.stats.shortening!.steps).toBeGreaterThan(0);
    // The random explorer's auto is ddmin.
    expect(check(aaDesign, { explorer: 'random', shorten: 'auto', lockdep: false }).violation!.shortened).toBe('ddmin');
    expect(ddmin.violation!.choices.length).toBeLessThan(asFound.violation!.choices.length);
    expect(bfs.violation!.choices.length).toBeLessThan(ddmin.violation!.choices.length);
    expect(() => check(aaDesign, { minimize: false, shorten: 'ddmin' })).toThrow(/contradict/);
    expect(() => check(aaDesign, { explorer: 'random', shorten: 'bfs' })).toThrow(/exhaustive explorer only/);
    // The command line passes it on, and the report says how the schedule was shortened.
    const [v] = JSON.parse(kdefer('check', aaFile, '--shorten', 'ddmin', '--json').stdout);
    expect([v.violation.shortened, v.violation.choices]).toEqual(['ddmin', check(aaDesign, { shorten: 'ddmin', lockdep: false }).violation!.choices]);
    expect(kdefer('check', aaFile, '--shorten', 'none').stdout).toMatch(/^ {2}schedule, \d+ steps \(as found, not shortened\):$/m);
    const random = kdefer('check', aaFile, '--explorer', 'random', '--shorten', 'bfs');
    expect(random.status).toBe(2);
    expect(random.stderr).toBe('kdefer: --shorten bfs applies to --explorer exhaustive only (the random explorer shortens by ddmin)\n');
  });

  it('rejects a size it cannot read, and the flags of the other explorer', () => {
    const bad = kdefer('check', counterFile, '--max-memory', 'lots');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toBe("kdefer: --max-memory: 'lots' is not a size (bytes, or a number with K, M, G or T, e.g. 2G, 512M)\n");
    const random = kdefer('check', counterFile, '--explorer', 'random', '--no-por');
    expect(random.status).toBe(2);
    expect(random.stderr).toBe('kdefer: --no-por applies to --explorer exhaustive only\n');
  });
});

/** A stand-in for stderr that records what is written. */
const fakeStream = (isTTY: boolean): ProgressStream & { text: string } => {
  const s = { isTTY, text: '', write(t: string) { s.text += t; return true; } };
  return s;
};

describe('the progress line', () => {
  it('is rewritten at most every 500 ms with states, states/s, depth, memory and elapsed time, and erased', () => {
    const stream = fakeStream(true);
    let now = 0;
    const line = new ProgressLine(stream, () => now, () => 3 * 2 ** 20);
    line.start('eth');
    line.update({ phase: 'search', states: 0, depth: 0 });
    now = 200;
    line.update({ phase: 'search', states: 500, depth: 7 }); // too soon: not shown
    now = 1000;
    line.update({ phase: 'search', states: 2000, depth: 9 });
    line.clear();
    expect(stream.text.split('\r\x1b[2K')).toEqual([
      '',
      'eth: searching: 0 states, 0 states/s, depth 0, memory 3 MiB, 0.0 s',
      'eth: searching: 2,000 states, 2,000 states/s, depth 9, memory 3 MiB, 1.0 s',
      '',
    ]);
    expect(PROGRESS_INTERVAL_MS).toBe(500);
  });

  it('names the phase: the search, the shortening of a violation\'s schedule, lockdep\'s sweep of the rest of the states', () => {
    const stream = fakeStream(true);
    let now = 0;
    const line = new ProgressLine(stream, () => now, () => 2 ** 20);
    line.start('bug');
    for (const phase of ['search', 'shortening', 'lockdep'] as const) {
      now += 1000;
      line.update({ phase, states: 4096, depth: 3 });
    }
    expect(stream.text.split('\r\x1b[2K').slice(1).map((l) => l.split(': ')[1])).toEqual(['searching', 'shortening the schedule', "sweeping the rest for lockdep's prediction"]);
    // check() reports all three: a bug found in 918 states, shortened over 20,462, and lockdep's sweep of the rest.
    const phases = new Set<string>();
    check(CATALOGUE.find((d) => d.name === 'bench-backlog-buggy-n2-k2')!, { progress: (p) => phases.add(p.phase) });
    expect([...phases].sort()).toEqual(['lockdep', 'search', 'shortening']);
  });

  it('shows on a terminal while a design is checked, never under --json or off a terminal', () => {
    const d: Design = defineDesign({
      name: 'progress-shown', cpus: 2, locks: { L: 'spinlock' }, vars: { count: 0 },
      tasks: [0, 1].map((cpu) => ({ name: `t${cpu}`, cpu, body: [spin_lock('L'), inc('count'), spin_unlock('L')] })),
    });
    const programs = [compile(d)];
    const tty = fakeStream(true);
    const [v] = checkAll(programs, { explorer: 'exhaustive' }, tty, false);
    expect(v!.status).toBe('verified');
    expect(tty.text).toMatch(/^\r\x1b\[2Kprogress-shown: searching: [\d,]+ states, [\d,]+ states\/s, depth \d+, memory [\d.]+ [KMG]iB, [\d.]+ s/);
    expect(tty.text.endsWith('\r\x1b[2K')).toBe(true);
    const json = fakeStream(true);
    checkAll(programs, { explorer: 'exhaustive' }, json, true);
    const pipe = fakeStream(false);
    checkAll(programs, { explorer: 'exhaustive' }, pipe, false);
    expect([json.text, pipe.text]).toEqual(['', '']);
  });
});
