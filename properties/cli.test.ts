/**
 * The command line (scripts/kdefer.ts) as a user runs it: `node
 * scripts/kdefer.mjs …` in a child process, on design files written to a
 * fresh temporary folder. Pins the --json shape, the exit statuses (0 as
 * expected, 1 not, 2 bad input) and the one-line stderr of bad input.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = fileURLToPath(new URL('../scripts/kdefer.mjs', import.meta.url));
const API = fileURLToPath(new URL('../model/index.ts', import.meta.url));

const scratch = mkdtempSync(join(tmpdir(), 'kdefer-cli-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/**
 * Write a design file importing the API by absolute path. `esm` puts it
 * under a "type": "module" package.json; otherwise node loads it as
 * CommonJS, as it would a file in /tmp.
 */
function designFile(name: string, body: string, opts: { esm?: boolean } = {}): string {
  const folder = join(scratch, opts.esm ? 'esm' : 'plain');
  mkdirSync(folder, { recursive: true });
  if (opts.esm) writeFileSync(join(folder, 'package.json'), '{ "type": "module" }\n');
  const path = join(folder, name);
  writeFileSync(path, `import { defineDesign, inc, spin_lock, spin_unlock, spin_lock_irqsave, spin_unlock_irqrestore } from ${JSON.stringify(API)};\n${body}`);
  return path;
}

interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Counterexamples of the scratch designs go here, never into the repository's folder. */
const SAVED = join(scratch, 'saved');

function kdefer(...args: string[]): Run {
  const save = args[0] === 'check' && !args.includes('--no-save') && !args.includes('--save-dir') ? ['--save-dir', SAVED] : [];
  const r = spawnSync(process.execPath, [BIN, ...args, ...save], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** One CPU: a task and the eth0 handler share `priv->lock`; the task takes it by `taskLock`. */
const taskVsIrq = (name: string, taskLock: 'spin_lock' | 'spin_lock_irqsave', expected: string) => `
export const ${name.replace(/-/g, '_')} = defineDesign({
  name: '${name}',
  cpus: 1,
  locks: { 'priv->lock': 'spinlock' },
  vars: { count: 0 },
  tasks: [{ name: 'reader', cpu: 0, body: ${taskLock === 'spin_lock'
    ? "[spin_lock('priv->lock'), inc('count'), spin_unlock('priv->lock')]"
    : "[spin_lock_irqsave('priv->lock', 'flags'), inc('count'), spin_unlock_irqrestore('priv->lock', 'flags')]"} }],
  irqs: [{ name: 'eth0', handler: [spin_lock('priv->lock'), inc('count'), spin_unlock('priv->lock')] }],
  expected: '${expected}',
});
`;

const PAIR = taskVsIrq('aa-buggy', 'spin_lock', 'deadlock') + taskVsIrq('aa-fixed', 'spin_lock_irqsave', 'verified');

describe('kdefer check', () => {
  it.each([
    { loaded: 'as CommonJS', esm: false },
    { loaded: 'as an ES module', esm: true },
  ])('--json: one object per design, in source order, exit 0 when all as expected ($loaded)', ({ esm }) => {
    const run = kdefer('check', designFile('pair.ts', PAIR, { esm }), '--json');
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const verdicts = JSON.parse(run.stdout) as Record<string, unknown>[];
    expect(verdicts.map((v) => v.design)).toEqual(['aa-buggy', 'aa-fixed']);
    for (const v of verdicts) {
      expect(Object.keys(v)).toEqual(expect.arrayContaining(['design', 'fingerprint', 'expected', 'status', 'violation', 'bounds', 'stats']));
      expect(v.fingerprint).toMatch(/^[0-9a-f]{16}$/);
      expect(v.bounds).toMatchObject({ cpus: 1, irqs: { eth0: 1 } });
      expect(v.stats).toEqual({ states: expect.any(Number), transitions: expect.any(Number), ms: expect.any(Number), parallelism: 1 });
    }
    const [buggy, fixed] = verdicts;
    expect(buggy).toMatchObject({ expected: 'deadlock', status: 'violation', violation: { kind: 'deadlock', message: expect.stringContaining('deadlock') } });
    expect(fixed).toMatchObject({ expected: 'verified', status: 'verified', violation: null });
  });

  it('prints the verdict table, the violation with its numbered schedule, and the tally', () => {
    const run = kdefer('check', designFile('table.ts', PAIR));
    expect(run.status).toBe(0);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines.find((l) => l.startsWith('design'))).toMatch(/design\s+profile\s+bounds\s+expected\s+verdict\s+states\s+ms/);
    expect(lines.find((l) => l.startsWith('aa-buggy '))).toMatch(/modern \(6\.12\+\)\s+1 CPU, eth0≤1\s+deadlock\s+violation: deadlock\s+\d+\s+\d+\s+1\s+OK$/);
    expect(lines.find((l) => l.startsWith('aa-fixed '))).toMatch(/verified\s+verified\s+\d+\s+\d+\s+1\s+OK$/);
    expect(run.stdout).toMatch(/^\s+1 {2}cpu0 \[task reader\]: spin_lock\(&priv->lock\)$/m);
    expect(lines.at(-1)).toBe('2 designs: 2 as expected');
  });

  it('exits 1 when a verdict is not the one the design claims', () => {
    const run = kdefer('check', designFile('wrong.ts', taskVsIrq('claims-verified', 'spin_lock', 'verified')));
    expect(run.stderr).toBe('');
    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(/claims-verified .*MISMATCH$/m);
    expect(run.stdout.trimEnd().split('\n').at(-1)).toBe('1 design: 0 as expected, 1 NOT as expected: claims-verified');
  });

  const missing = join(scratch, 'no-such-design.ts');
  it.each([
    { input: 'a missing file', args: () => ['check', missing], says: [`kdefer: ${missing}: no such file`] },
    {
      input: 'a malformed design',
      args: () => ['check', designFile('unknown-lock.ts', "export const x = defineDesign({ name: 'x', cpus: 1, locks: { A: 'spinlock' }, tasks: [{ name: 't', cpu: 0, body: [spin_lock('A'), spin_lock('B')] }] });")],
      says: ["unknown-lock.ts: design 'x': ", "unknown lock 'B' (declared: A)"],
    },
    { input: 'an unknown flag', args: () => ['check', '--frobnicate', missing], says: ['kdefer: unknown flag --frobnicate'] },
    { input: 'a bad --runs', args: () => ['check', '--explorer', 'random', '--runs', 'many', missing], says: ["kdefer: --runs: 'many' is not a whole number"] },
    {
      input: 'a file exporting no design',
      args: () => ['check', designFile('nothing.ts', 'export const answer = 42;\n')],
      says: ['nothing.ts: exports no design'],
    },
  ])('exits 2 with one line on stderr for $input', ({ args, says }) => {
    const run = kdefer(...args());
    expect(run.status).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr.endsWith('\n')).toBe(true);
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/^kdefer: /);
    for (const part of says) expect(run.stderr).toContain(part);
  });
});

describe('counterexample files', () => {
  const dir = join(scratch, 'cx');
  const files = () => (existsSync(dir) ? readdirSync(dir).sort() : []);

  it('check saves one per violation, and saving the same one again writes nothing new', () => {
    const design = designFile('saved.ts', PAIR);
    expect(kdefer('check', design, '--save-dir', dir).status).toBe(0);
    expect(files()).toEqual(['aa-buggy.deadlock.json']);
    const again = kdefer('check', design, '--save-dir', dir);
    expect(again.stdout).toContain('unchanged');
    expect(files()).toEqual(['aa-buggy.deadlock.json']);
  });

  it('never overwrites a different file of the same name: it picks a new one', () => {
    writeFileSync(join(dir, 'aa-buggy.deadlock.json'), 'my notes, not a counterexample\n');
    expect(kdefer('check', designFile('saved.ts', PAIR), '--save-dir', dir).status).toBe(0);
    expect(readFileSync(join(dir, 'aa-buggy.deadlock.json'), 'utf8')).toBe('my notes, not a counterexample\n');
    expect(files()).toEqual(['aa-buggy.deadlock.2.json', 'aa-buggy.deadlock.json']);
  });

  it('replay reproduces a saved one (exit 0) and prints its trace', () => {
    const run = kdefer('replay', join(dir, 'aa-buggy.deadlock.2.json'));
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('cpu0: eth0 interrupt arrives');
    expect(run.stdout).toContain('reproduced: deadlock');
  });

  it('replay reports a stale file (exit 1), naming the first step that differs', () => {
    const file = join(dir, 'aa-buggy.deadlock.2.json');
    const cx = JSON.parse(readFileSync(file, 'utf8'));
    cx.schedule[1].label = 'cpu0: something else';
    const stale = join(dir, 'stale.json');
    writeFileSync(stale, JSON.stringify(cx));
    const run = kdefer('replay', stale, '--json');
    expect(run.status).toBe(1);
    const out = JSON.parse(run.stdout);
    expect(out.status).toBe('stale');
    expect(out.step).toBe(2);
    expect(out.problem).toMatch(/^step 2 differs/);
  });

  it('replay rejects a corrupt file or a missing design with exit 2 and one line', () => {
    const corrupt = join(dir, 'corrupt.json');
    writeFileSync(corrupt, '{ "format": "kdefer-counterexample", ');
    const bad = kdefer('replay', corrupt);
    expect(bad.status).toBe(2);
    expect(bad.stderr.trimEnd().split('\n')).toEqual([`kdefer: ${corrupt}: not valid JSON (${bad.stderr.split('not valid JSON (')[1]!.trimEnd().slice(0, -1)})`]);
    const cx = JSON.parse(readFileSync(join(dir, 'aa-buggy.deadlock.2.json'), 'utf8'));
    cx.design.name = 'renamed-away';
    const missing = join(dir, 'missing.json');
    writeFileSync(missing, JSON.stringify(cx));
    const gone = kdefer('replay', missing);
    expect(gone.status).toBe(2);
    expect(gone.stderr).toMatch(/design 'renamed-away' is not exported by/);
    const wild = JSON.parse(readFileSync(join(dir, 'aa-buggy.deadlock.2.json'), 'utf8'));
    wild.schedule[1].choice = (0 << 28) | (9 << 24);
    const outOfRange = join(dir, 'out-of-range.json');
    writeFileSync(outOfRange, JSON.stringify(wild));
    const far = kdefer('replay', outOfRange);
    expect(far.status).toBe(2);
    expect(far.stderr.trimEnd().split('\n')).toEqual([`kdefer: ${outOfRange}: step 2: choice ${9 << 24} is out of range: it names cpu9, but design 'aa-buggy' has 1 CPU`]);
  });
});

describe('nothing lost, nothing written outside the save folder', () => {
  /** Run kdefer as an unprivileged user when we are root, so that file permissions apply. */
  function asUser(...args: string[]): Run {
    const root = process.getuid?.() === 0;
    const r = spawnSync(process.execPath, [BIN, ...args], {
      cwd: ROOT, encoding: 'utf8', timeout: 60_000,
      ...(root ? { uid: 65534, gid: 65534, env: { ...process.env, HOME: '/tmp' } } : {}),
    });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  }
  const open = (path: string) => {
    mkdirSync(path, { recursive: true });
    chmodSync(path, 0o755);
    return path;
  };

  it('a read-only save folder: the table and the tally are printed, the failed save is a warning, the exit status is the verdicts\'', () => {
    const home = open(join(scratch, 'ro-home'));
    chmodSync(scratch, 0o755);
    const design = join(home, 'pair.ts');
    writeFileSync(design, readFileSync(designFile('ro-pair.ts', PAIR), 'utf8'));
    chmodSync(design, 0o644);
    const ro = open(join(home, 'readonly'));
    chmodSync(ro, 0o555);
    const run = asUser('check', design, '--save-dir', ro);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^aa-buggy .*OK$/m);
    expect(run.stdout.trimEnd().split('\n').at(-1)).toBe('2 designs: 2 as expected');
    expect(run.stderr).toMatch(/^kdefer: warning: could not save the counterexample of 'aa-buggy' to .*readonly.*: not writable/m);
    const json = asUser('check', design, '--save-dir', ro, '--json');
    expect(json.status).toBe(0);
    const verdicts = JSON.parse(json.stdout) as { design: string; counterexample: { action: string } }[];
    expect(verdicts.map((v) => [v.design, v.counterexample.action])).toEqual([['aa-buggy', 'failed'], ['aa-fixed', 'none']]);
    expect(readdirSync(ro)).toEqual([]);
  });

  it('a file in the way of the save folder: a warning, and the verdicts stand (a mismatch still exits 1)', () => {
    const blocker = join(scratch, 'blocker');
    writeFileSync(blocker, 'not a folder\n');
    const run = kdefer('check', designFile('mismatch.ts', taskVsIrq('claims-fine', 'spin_lock', 'verified')), '--save-dir', blocker);
    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(/claims-fine .*MISMATCH$/m);
    expect(run.stderr).toMatch(/warning: could not save the counterexample of 'claims-fine' .*a file is in the way/);
    expect(readFileSync(blocker, 'utf8')).toBe('not a folder\n');
  });

  it('a design named ../../escaped is saved inside the save folder, under a sanitised name', () => {
    const dir = join(scratch, 'nested', 'a', 'save');
    const body = taskVsIrq('escaped', 'spin_lock', 'deadlock').replace("name: 'escaped'", "name: '../../escaped'");
    const run = kdefer('check', designFile('escape.ts', body), '--save-dir', dir);
    expect(run.status).toBe(0);
    expect(readdirSync(dir)).toEqual(['escaped.deadlock.json']);
    expect(existsSync(join(scratch, 'nested', 'escaped.deadlock.json'))).toBe(false);
    expect(JSON.parse(readFileSync(join(dir, 'escaped.deadlock.json'), 'utf8')).design.name).toBe('../../escaped');
  });

  it('two runs saving at once leave one whole file per violation', async () => {
    const dir = join(scratch, 'concurrent');
    const design = designFile('concurrent.ts', PAIR + taskVsIrq('aa-second', 'spin_lock', 'deadlock'));
    const { spawn } = await import('node:child_process');
    const runOne = () => new Promise<number | null>((done) => {
      spawn(process.execPath, [BIN, 'check', design, '--save-dir', dir], { cwd: ROOT, stdio: 'ignore' }).on('exit', done);
    });
    expect(await Promise.all([runOne(), runOne(), runOne()])).toEqual([0, 0, 0]);
    expect(readdirSync(dir).sort()).toEqual(['aa-buggy.deadlock.json', 'aa-second.deadlock.json']);
    for (const f of readdirSync(dir)) expect(() => JSON.parse(readFileSync(join(dir, f), 'utf8'))).not.toThrow();
  });

  it('an edited design: its old counterexample is reported stale and kept; --update replaces it', () => {
    const dir = join(scratch, 'stale');
    const v1 = designFile('edited.ts', taskVsIrq('edited', 'spin_lock', 'deadlock'));
    expect(kdefer('check', v1, '--save-dir', dir).status).toBe(0);
    const first = readFileSync(join(dir, 'edited.deadlock.json'), 'utf8');
    // The edit: the handler now counts into another variable; the old file's fingerprint no longer matches.
    writeFileSync(v1, readFileSync(v1, 'utf8').replace("vars: { count: 0 }", "vars: { count: 0, other: 0 }"));
    const again = kdefer('check', v1, '--save-dir', dir);
    expect(again.status).toBe(0);
    expect(again.stdout).toMatch(/STALE .*edited\.deadlock\.json: design 'edited' changed since the counterexample was saved/);
    expect(again.stdout).toContain("not saved: stale counterexamples of 'edited' are in the way (kdefer check --update replaces them)");
    expect(readdirSync(dir)).toEqual(['edited.deadlock.json']);
    expect(readFileSync(join(dir, 'edited.deadlock.json'), 'utf8')).toBe(first);
    const update = kdefer('check', v1, '--save-dir', dir, '--update');
    expect(update.stdout).toMatch(/removed stale .*edited\.deadlock\.json/);
    expect(update.stdout).toMatch(/saved .*edited\.deadlock\.json/);
    expect(readdirSync(dir)).toEqual(['edited.deadlock.json']);
    expect(kdefer('replay', join(dir, 'edited.deadlock.json')).status).toBe(0);
  });
});
