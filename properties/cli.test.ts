/**
 * The command line (scripts/kdefer.ts) as a user runs it: the compiled bin,
 * `node dist/scripts/kdefer.js …`, in a child process, on design files written to a
 * fresh temporary folder. Pins the --json shape, the exit statuses (0 as
 * expected, 1 not, 2 bad input) and the one-line stderr of bad input.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { CATALOGUE } from '../model/designs/index.ts';
import { DEFAULT_MAX_STATES } from '../model/explore/exhaustive.ts';
import { DEFAULT_RUNS } from '../model/explore/random.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = fileURLToPath(new URL('../dist/scripts/kdefer.js', import.meta.url));
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

/**
 * Run kdefer in the scratch folder, as a user runs it in their project (the
 * folder replay trusts design modules from).
 */
function kdefer(...args: string[]): Run {
  const save = args[0] === 'check' && !args.includes('--no-save') && !args.includes('--save-dir') ? ['--save-dir', SAVED] : [];
  const r = spawnSync(process.execPath, [BIN, ...args, ...save], { cwd: scratch, encoding: 'utf8', timeout: 60_000 });
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
      expect(v.stats).toEqual({
        states: expect.any(Number), transitions: expect.any(Number), ms: expect.any(Number), parallelism: 1,
        transient: expect.any(Number), reductions: expect.objectContaining({ por: true, fusion: true }),
        ...(v.status === 'violation' ? { shortening: expect.objectContaining({ method: 'bfs' }) } : {}),
      });
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
      input: 'a CommonJS .cts design file',
      args: () => ['check', designFile('old-style.cts', 'export const answer = 42;\n')],
      says: ['old-style.cts: a .cts file is CommonJS; kdefer loads design files as ES modules (import/export): name it .ts'],
    },
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

describe('the command line is a well-kept parser', () => {
  it('--version prints the package version', () => {
    const run = kdefer('--version');
    expect(run.status).toBe(0);
    expect(run.stdout).toBe(`${JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version}\n`);
  });

  it('help lists the commands; each command has --help with its flags, examples and exit statuses', () => {
    const top = kdefer('help');
    expect(top.status).toBe(0);
    for (const name of ['check', 'replay', 'merge', 'list', 'help']) expect(top.stdout).toMatch(new RegExp(`^  ${name}\\b`, 'm'));
    const flags: Record<string, string[]> = {
      check: ['--all', '--json', '--explorer', '--seed', '--runs', '--max-states', '--save-dir', '--no-save', '--update'],
      replay: ['--json', '--perfetto', '--allow-module-path'],
      list: ['--json'],
    };
    const helps: Record<string, string> = {};
    for (const [name, expected] of Object.entries(flags)) {
      const help = kdefer(name, '--help');
      expect(help.status).toBe(0);
      helps[name] = help.stdout;
      for (const flag of expected) expect(help.stdout).toMatch(new RegExp(`^  ${flag}\\b`, 'm'));
      expect(help.stdout).toMatch(new RegExp(`Examples:\\n  # .+\\n  kdefer ${name}`));
      expect(help.stdout).toContain('Exit status:');
    }
    expect(kdefer('help', 'replay').stdout).toBe(helps.replay);
    // The defaults the help states are the explorers' own.
    const check = helps.check!.replace(/\s+/g, ' ');
    expect(check).toContain(`(default ${DEFAULT_RUNS})`);
    expect(check).toContain(`(default ${DEFAULT_MAX_STATES})`);
  });

  it.each([
    { args: ['frobnicate'], says: "unknown command 'frobnicate' (commands: check, replay, merge, list, help)" },
    { args: ['help', 'frobnicate'], says: "help: unknown command 'frobnicate'" },
    { args: ['check', '--jsn', 'x.ts'], says: 'unknown flag --jsn (did you mean --json?)' },
    { args: ['check', '--all', '--json=yes'], says: '--json takes no value' },
    { args: ['check', '--all', '--explorer', 'dfs'], says: "--explorer: 'dfs' is not an explorer (exhaustive, random)" },
    { args: ['check', '--all', '--no-save', '--seed'], says: '--seed needs a value' },
    { args: ['replay'], says: 'replay needs exactly one counterexample file' },
  ])('bad command line $args: exit 2, one line', ({ args, says }) => {
    const run = kdefer(...args);
    expect(run.status).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(`kdefer: ${run.stderr.slice('kdefer: '.length).split('\n')[0]}\n`);
    expect(run.stderr).toContain(says);
  });

  it('list prints the catalogue without checking it: name, expected verdict, bounds, description', () => {
    const run = kdefer('list');
    expect(run.status).toBe(0);
    const rows = run.stdout.split('\n');
    expect(rows[0]).toMatch(/^design\s+expected\s+profile\s+bounds\s+description$/);
    for (const d of CATALOGUE) {
      const row = rows.find((l) => l.startsWith(`${d.name} `));
      expect(row, d.name).toBeDefined();
      expect(row).toMatch(new RegExp(`^\\S+\\s+${d.expected}\\s+`));
    }
    expect(rows.find((l) => l.startsWith('task-vs-hardirq-spin_lock '))).toMatch(/deadlock\s+modern\s+1 CPU, eth0≤1\s+A task reads the device statistics/);
    const json = JSON.parse(kdefer('list', '--json').stdout) as { design: string; expected: string; description: string; boundsText: string }[];
    expect(json.map((d) => d.design)).toEqual(CATALOGUE.map((d) => d.name));
    expect(json.map((d) => d.description)).toEqual(CATALOGUE.map((d) => d.description ?? null));
    expect(json[0]!.boundsText).toBe('1 CPU, ≤1 eth0 interrupt, profile modern (6.12+), preempt none');
  });

  it('list of a design file names its designs', () => {
    const run = kdefer('list', designFile('listed.ts', PAIR));
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^aa-buggy\s+deadlock\s+modern\s+1 CPU, eth0≤1/m);
    expect(run.stdout).toMatch(/^aa-fixed\s+verified\s+modern/m);
  });
});

describe('--json: nothing but JSON on stdout', () => {
  const chatty = `
console.log('loading my design');
console.info('info line');
process.stdout.write('raw write\\n');
export const chatty = defineDesign({
  name: 'chatty', cpus: 1, locks: { 'priv->lock': 'spinlock' }, vars: { count: 0 },
  tasks: [{ name: 't', cpu: 0, body: [spin_lock_irqsave('priv->lock', 'flags'), inc('count'), spin_unlock_irqrestore('priv->lock', 'flags')] }],
  irqs: [{ name: 'eth0', handler: [spin_lock('priv->lock'), inc('count'), spin_unlock('priv->lock')] }],
  expected: 'verified',
});
setTimeout(() => console.log('later, from a timer'), 0);
`;

  it.each([{ esm: false }, { esm: true }])('a design file that prints: its output goes to stderr, stdout parses (esm: $esm)', ({ esm }) => {
    const run = kdefer('check', designFile(`chatty-${esm}.ts`, chatty, { esm }), '--json');
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject([{ design: 'chatty', status: 'verified' }]);
    for (const line of ['loading my design', 'info line', 'raw write', 'later, from a timer']) expect(run.stderr).toContain(line);
    if (esm) return;
    // Without --json, a design's output is the user's business and stays on stdout.
    const text = kdefer('check', designFile(`chatty-${esm}.ts`, chatty, { esm }), '--no-save');
    expect(text.stdout).toContain('loading my design');
  });

  it('bad input: {"error": {message, file}} on stdout, the same line on stderr, exit 2', () => {
    const broken = designFile('broken.ts', "console.log('before the throw');\nthrow new Error('my design is broken');\n");
    const run = kdefer('check', broken, '--json');
    expect(run.status).toBe(2);
    expect(JSON.parse(run.stdout)).toEqual({ error: { message: expect.stringContaining('my design is broken'), file: broken } });
    expect(run.stderr).toContain('before the throw');
    expect(run.stderr).toContain(`kdefer: ${JSON.parse(run.stdout).error.message}\n`);
    const typo = designFile('typo-json.ts', "export const x = defineDesign({ name: 'x', cpus: 1, locks: { A: 'spinlock' }, tasks: [{ name: 't', cpu: 0, body: [spin_lock('A'), spin_lock('B')] }] });");
    const design = kdefer('check', typo, '--json');
    expect(design.status).toBe(2);
    expect(JSON.parse(design.stdout)).toEqual({ error: { message: expect.stringContaining("unknown lock 'B' (declared: A)"), file: typo } });
    const flag = kdefer('check', '--frobnicate', '--json');
    expect(flag.status).toBe(2);
    expect(JSON.parse(flag.stdout)).toEqual({ error: { message: 'unknown flag --frobnicate (kdefer help check lists the flags)', file: null } });
    expect(flag.stderr).toBe('kdefer: unknown flag --frobnicate (kdefer help check lists the flags)\n');
  });

  it('replay --json of a corrupt file: the error names the file', () => {
    const corrupt = join(scratch, 'corrupt-for-json.json');
    writeFileSync(corrupt, '[]');
    const run = kdefer('replay', corrupt, '--json');
    expect(run.status).toBe(2);
    expect(JSON.parse(run.stdout)).toEqual({ error: { message: expect.stringContaining('not a kdefer counterexample'), file: corrupt } });
  });
});

describe('replay loads design modules only from places the user trusts', () => {
  /** The design module's source: the trusty design, and a line that leaves `marker` behind when the module runs. */
  const moduleSource = (marker: string) => readFileSync(designFile('trust.ts', taskVsIrq('trusty', 'spin_lock', 'deadlock')), 'utf8') +
    `\nimport { writeFileSync as mark } from 'node:fs';\nmark(${JSON.stringify(marker)}, 'the design module ran');\n`;
  /** Its counterexample, found once (the marker line is not part of the design, so every copy replays it). */
  let saved: { design: { module: string } } | null = null;
  function counterexampleOfTrusty(): { design: { module: string } } {
    if (saved) return structuredClone(saved);
    const dir = join(scratch, 'trust-base');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'design.ts'), moduleSource(join(dir, 'module-ran')));
    expect(kdefer('check', join(dir, 'design.ts'), '--save-dir', join(dir, 'cx')).status).toBe(0);
    saved = JSON.parse(readFileSync(join(dir, 'cx', 'trusty.deadlock.json'), 'utf8'));
    return structuredClone(saved!);
  }

  /** A project of its own (a package.json), a counterexample saved in it, and a design module elsewhere. */
  function setUp(name: string) {
    const base = join(scratch, `trust-${name}`);
    const project = join(base, 'project');
    const elsewhere = join(base, 'elsewhere');
    mkdirSync(join(project, 'counterexamples'), { recursive: true });
    mkdirSync(elsewhere, { recursive: true });
    writeFileSync(join(project, 'package.json'), '{ "name": "my-driver", "private": true }\n');
    const marker = join(base, 'module-ran');
    const design = join(elsewhere, 'design.ts');
    writeFileSync(design, moduleSource(marker));
    // The counterexample lives in the project and names a module outside it, as one attached to a bug report might.
    const cx = counterexampleOfTrusty();
    cx.design.module = '../../elsewhere/design.ts';
    const file = join(project, 'counterexamples', 'trusty.deadlock.json');
    writeFileSync(file, JSON.stringify(cx, null, 2));
    return { project, elsewhere, design, file, marker };
  }
  const inProject = (project: string, ...args: string[]): Run => {
    const r = spawnSync(process.execPath, [BIN, ...args], { cwd: project, encoding: 'utf8', timeout: 60_000 });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  };

  it('a module outside the project and the counterexample\'s folder is refused, and never runs', () => {
    const { project, elsewhere, file, marker } = setUp('refused');
    const run = inProject(project, 'replay', file);
    expect(run.status).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(run.stderr).toContain(`its design module ${join(elsewhere, 'design.ts')} is outside this project (${project})`);
    expect(run.stderr).toContain(`--allow-module-path ${elsewhere}`);
    expect(existsSync(marker)).toBe(false);
    const json = inProject(project, 'replay', file, '--json');
    expect(JSON.parse(json.stdout)).toEqual({ error: { message: expect.stringContaining('is outside this project'), file } });
    expect(existsSync(marker)).toBe(false);
  });

  it('--allow-module-path DIR allows it', () => {
    const { project, elsewhere, file, marker } = setUp('allowed');
    const run = inProject(project, 'replay', file, '--allow-module-path', elsewhere);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('reproduced: deadlock');
    expect(existsSync(marker)).toBe(true);
  });

  it('a symbolic link inside the project that leads outside is refused too', () => {
    const { project, elsewhere, file, marker } = setUp('symlink');
    symlinkSync(elsewhere, join(project, 'linked'));
    const cx = JSON.parse(readFileSync(file, 'utf8'));
    cx.design.module = '../linked/design.ts';
    writeFileSync(file, JSON.stringify(cx));
    const run = inProject(project, 'replay', file);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('is outside this project');
    expect(existsSync(marker)).toBe(false);
  });

  it('a module inside the project, or beside the counterexample, loads', () => {
    const { project, design, file } = setUp('inside');
    const moved = join(project, 'src', 'design.ts');
    mkdirSync(dirname(moved), { recursive: true });
    writeFileSync(moved, readFileSync(design, 'utf8'));
    const cx = JSON.parse(readFileSync(file, 'utf8'));
    cx.design.module = '../src/design.ts';
    writeFileSync(file, JSON.stringify(cx));
    expect(inProject(project, 'replay', file).status).toBe(0);
    // Run from elsewhere (no project around): the counterexample's own folder tree is trusted.
    const beside = join(dirname(file), 'design.ts');
    writeFileSync(beside, readFileSync(design, 'utf8'));
    cx.design.module = './design.ts';
    writeFileSync(file, JSON.stringify(cx));
    expect(inProject(tmpdir(), 'replay', file).status).toBe(0);
  });

  it('the catalogue\'s own counterexamples replay from anywhere', () => {
    const saved = join(ROOT, 'counterexamples', 'abba-spin_lock.deadlock.json');
    const run = inProject(tmpdir(), 'replay', saved);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
  });
});

describe('kdefer check --grow', () => {
  /** A task and eth0 each count once, under an irq-safe lock; the invariant hard-codes the count: 2. */
  const countsTwo = (name: string, assumes: string) => `
export const ${name.replace(/-/g, '_')} = defineDesign({
  name: '${name}',
  cpus: 1,
  locks: { 'priv->lock': 'spinlock' },
  vars: { count: 0 },
  tasks: [{ name: 'reader', cpu: 0, body: [spin_lock_irqsave('priv->lock', 'flags'), inc('count'), spin_unlock_irqrestore('priv->lock', 'flags')] }],
  irqs: [{ name: 'eth0', handler: [spin_lock('priv->lock'), inc('count'), spin_unlock('priv->lock')] }],
  invariants: [{ name: 'two updates', holds: eq(v('count'), 2), when: 'at-end' }],
  expected: 'verified',${assumes}
});
`;
  /** The count, then the same design assuming one packet, then the B1 pair (one design violated, never grown). */
  const grown = () => designFile('grow.ts', `import { eq, v } from ${JSON.stringify(API)};\n` +
    countsTwo('counts-two', '') + countsTwo('counts-two-assumed', "\n  assumes: [{ bound: 'irq eth0', why: 'one packet' }],") + PAIR);

  it('--json: grow: [{ bound, from, to, status, violation, assumed, … }] for each verified design, null for the others; a flip exits 1', () => {
    const run = kdefer('check', grown(), '--grow', '--json');
    expect(run.stderr).toBe('');
    expect(run.status).toBe(1);
    const verdicts = JSON.parse(run.stdout) as { design: string; status: string; assumptions: unknown[]; grow: Record<string, unknown>[] | null }[];
    expect(verdicts.map((v) => [v.design, v.status, v.grow === null ? null : v.grow.length])).toEqual([
      ['counts-two', 'verified', 4], ['counts-two-assumed', 'verified', 4], ['aa-buggy', 'violation', null], ['aa-fixed', 'verified', 4],
    ]);
    const [plain, assumed] = verdicts;
    expect(plain!.assumptions).toEqual([]);
    expect(assumed!.assumptions).toEqual([{ bound: 'irq eth0', why: 'one packet' }]);
    expect(plain!.grow!.map((g) => [g.bound, g.from, g.to, g.status])).toEqual([
      ['cpus', 1, 2, 'verified'], ['irq eth0', 1, 2, 'violation'], ['ticks', 0, 1, 'verified'], ['preempt', 'none', 'full', 'verified'],
    ]);
    const flip = plain!.grow![1]!;
    expect(flip).toMatchObject({ assumed: null, violation: { kind: 'assertion', message: expect.stringContaining("invariant 'two updates'") } });
    expect((flip.violation as { trace: string[] }).trace.filter((l) => l.includes('eth0 interrupt arrives'))).toHaveLength(2);
    expect(flip.bounds).toMatchObject({ cpus: 1, irqs: { eth0: 2 } });
    expect(assumed!.grow![1]).toMatchObject({ status: 'violation', assumed: { bound: 'irq eth0', why: 'one packet' } });
    // Without --grow, nothing is grown.
    expect(JSON.parse(kdefer('check', grown(), '--json').stdout)[0]).not.toHaveProperty('grow');
  });

  it('the text report: a grow table, each flip with its schedule (assumed ones marked), the assumptions, and a grow tally', () => {
    const run = kdefer('check', grown(), '--grow', '1');
    expect(run.status).toBe(1);
    expect(run.stdout).toContain('assumptions declared by the designs (beyond their bounds):\n  counts-two-assumed: assumes one packet (irq eth0)');
    expect(run.stdout).toMatch(/^grow: each verified design re-checked with one bound raised at a time, by 1; at most \d+ states per variant$/m);
    expect(run.stdout).toMatch(/^counts-two\s+cpus\s+1\s+2\s+verified\s+\d+\s+\d+$/m);
    expect(run.stdout).toMatch(/^counts-two\s+irq eth0\s+1\s+2\s+violation: assertion \(FLIP\)\s+\d+\s+\d+$/m);
    expect(run.stdout).toMatch(/^counts-two-assumed\s+irq eth0\s+1\s+2\s+violation: assertion \(assumed\)\s+\d+\s+\d+$/m);
    expect(run.stdout).toContain("counts-two, irq eth0 1 → 2: assertion (FLIP: verified within the design's bounds, violated one step beyond)");
    expect(run.stdout).toContain('counts-two-assumed, irq eth0 1 → 2: assertion (assumed by the design: one packet)');
    expect(run.stdout.match(/^\s+\d+ {2}cpu0: eth0 interrupt arrives$/gm)!.length).toBeGreaterThanOrEqual(4);
    const [growTally, tally] = run.stdout.trimEnd().split('\n').slice(-2);
    expect(growTally).toBe('grow: 12 variants of 3 verified designs: 10 verified, 1 assumed flips, 0 bounded-out, 1 flip: counts-two (irq eth0 1 → 2)');
    expect(tally).toBe('4 designs: 4 as expected');
  });

  it.each([
    { args: ['--grow', '0'], says: "kdefer: --grow: '0' is not a whole number ≥ 1" },
    { args: ['--grow', '--explorer', 'random'], says: 'kdefer: --grow needs the exhaustive explorer' },
  ])('bad input: $args exits 2', ({ args, says }) => {
    const run = kdefer('check', grown(), ...args);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain(says);
  });
});

describe('lockdep on the command line', () => {
  /** The B1 pair, and the catalogue's rwlock design whose one lockdep report is not reachable. */
  const withFalsePositive = () => designFile('lockdep.ts', `import { catalogueDesign } from ${JSON.stringify(join(ROOT, 'model', 'designs', 'index.ts'))};\n${PAIR}` +
    "export const fp = catalogueDesign('rwlock-read-recursion-hardirq')!;\n");

  it('check prints, under each verdict with lockdep entries, one line per entry: settled, title, classes, reason, schedule', () => {
    const run = kdefer('check', withFalsePositive());
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const block = (design: string) => {
      const lines = run.stdout.split('\n');
      const at = lines.indexOf(`${design}: lockdep predicts 1 problem`);
      return at < 0 ? null : lines[at + 1];
    };
    expect(block('aa-buggy')).toBe('  confirmed: WARNING: inconsistent lock state (&priv->lock): a schedule within 1 CPU, ≤1 eth0 interrupt, profile modern (6.12+), preempt none deadlocks on &priv->lock; 3 steps on 1 CPU, the schedule above');
    expect(block('rwlock-read-recursion-hardirq')).toMatch(/^ {2}not reachable \(a lockdep false positive within the bounds\): WARNING: inconsistent lock state \(&L\): &L is taken in hardirq context only on cpu0, .*; checked every schedule within 2 CPUs/);
    // The fixed design: lockdep predicts nothing, and nothing is printed for it.
    expect(run.stdout).not.toContain('aa-fixed: lockdep');
    // lockdep's whole report only with --lockdep-report.
    expect(run.stdout).not.toContain('-> {IN-HARDIRQ-W} usage.');
    expect(kdefer('check', withFalsePositive(), '--lockdep-report').stdout).toMatch(/^ {4}inconsistent {HARDIRQ-ON-W} -> {IN-HARDIRQ-W} usage\.$/m);
  });

  it('--json: lockdep: [{ kind, title, classes, status, reason, schedule }] per verdict, the report only with --lockdep-report; none with --no-lockdep', () => {
    const run = kdefer('check', withFalsePositive(), '--json');
    expect(run.status).toBe(0);
    const verdicts = JSON.parse(run.stdout) as { design: string; violation: { choices: number[] } | null; lockdep: Record<string, unknown>[] | null }[];
    expect(verdicts.map((v) => [v.design, v.lockdep?.map((e) => e.status)])).toEqual([
      ['aa-buggy', ['confirmed']], ['aa-fixed', []], ['rwlock-read-recursion-hardirq', ['not-reachable']],
    ]);
    const [confirmed] = verdicts[0]!.lockdep!;
    expect(Object.keys(confirmed!)).toEqual(['kind', 'title', 'classes', 'status', 'reason', 'schedule']);
    expect(confirmed).toMatchObject({ kind: 'inconsistent', title: 'WARNING: inconsistent lock state', classes: ['&priv->lock'] });
    expect(confirmed!.schedule).toEqual({
      cpus: 1, moved: [], steps: 3, choices: verdicts[0]!.violation!.choices, trace: expect.any(Array),
      violation: { kind: 'deadlock', message: expect.stringContaining('AA deadlock on cpu0') },
    });
    const [notReachable] = verdicts[2]!.lockdep!;
    expect(notReachable).toMatchObject({ status: 'not-reachable', schedule: null, reason: expect.stringContaining('the interrupt never finds it held') });
    const reported = JSON.parse(kdefer('check', withFalsePositive(), '--json', '--lockdep-report').stdout) as { lockdep: { report: string }[] }[];
    expect(reported[0]!.lockdep[0]!.report).toContain('inconsistent {HARDIRQ-ON-W} -> {IN-HARDIRQ-W} usage.');
    // --no-lockdep: the same verdicts, without lockdep's prediction.
    const without = JSON.parse(kdefer('check', withFalsePositive(), '--json', '--no-lockdep').stdout) as typeof verdicts;
    expect(without.map((v) => [v.design, v.lockdep, v.violation?.choices ?? null])).toEqual(verdicts.map((v) => [v.design, null, v.violation?.choices ?? null]));
    const both = kdefer('check', withFalsePositive(), '--no-lockdep', '--lockdep-report');
    expect([both.status, both.stderr]).toEqual([2, 'kdefer: --no-lockdep and --lockdep-report contradict each other\n']);
  });

  // The whole suite takes minutes (properties/check/lockdep-selftests.test.ts runs it): --filter runs a few cases.
  it('check --suite lockdep --json: {cases, totals}, each case with lockdep\'s expectation, the prediction and the confirmation; exit 0 when all agree', () => {
    const run = kdefer('check', '--suite', 'lockdep', '--filter', 'A-B-B-A', '--json', '--no-save');
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const out = JSON.parse(run.stdout) as { cases: Record<string, unknown>[]; totals: unknown };
    expect(Object.keys(out)).toEqual(['cases', 'totals']);
    expect(out.totals).toEqual({ cases: 4, agree: 4 });
    expect(out.cases.map((c) => [c.label, c.column, c.expected, c.predicted, c.confirmed, c.agree])).toEqual([
      ['A-B-B-A deadlock', 'spin', 'FAILURE', 'FAILURE', 'deadlock', true],
      ['A-B-B-A deadlock', 'wlock', 'FAILURE', 'FAILURE', 'deadlock', true],
      ['A-B-B-A deadlock', 'rlock', 'SUCCESS', 'SUCCESS', 'none', true],
      ['A-B-B-A deadlock', 'mutex', 'FAILURE', 'FAILURE', 'deadlock', true],
    ]);
    expect(Object.keys(out.cases[0]!)).toEqual(['label', 'column', 'design', 'expected', 'reach', 'predicted', 'reports', 'confirmed', 'verdict', 'agree', 'note']);
  });

  it('check --suite lockdep prints the agreement table, a not-reachable case\'s reason as its note, and the tally', () => {
    const run = kdefer('check', '--suite', 'lockdep', '--filter', 'hardirq read-lock/lock-read', '--no-save');
    expect(run.status).toBe(0);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines).toContain('case                         type    lockdep  predicted  confirmed');
    expect(lines).toContain('hardirq read-lock/lock-read  queued  FAILURE  FAILURE    not reachable  OK');
    expect(lines).toContainEqual(expect.stringMatching(/^ {2}queued hardirq read-lock\/lock-read: not reachable: no writer of &A exists/));
    expect(lines.at(-1)).toBe('1 case: 1 agrees with lockdep');
  });

  it.each([
    { args: ['--suite', 'kasan'], says: "kdefer: --suite: 'kasan' is not a suite (lockdep)" },
    { args: ['--filter', 'A-A'], says: 'kdefer: --filter applies to --suite only' },
    { args: ['--suite', 'lockdep', '--filter', 'no such case'], says: "kdefer: --filter: no case of the lockdep suite matches 'no such case'" },
    { args: ['--suite', 'lockdep', '--all'], says: 'kdefer: --suite runs its own designs: give no design files and no --all' },
    { args: ['--suite', 'lockdep', '--explorer', 'random'], says: 'kdefer: --explorer does not apply to --suite' },
  ])('bad input: $args exits 2', ({ args, says }) => {
    const run = kdefer('check', ...args, '--no-save');
    expect(run.status).toBe(2);
    expect(run.stderr).toContain(says);
  });
});
