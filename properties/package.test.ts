/**
 * kdefer as a user gets it: `npm pack`, the tarball installed with npm into
 * a fresh project of its own, a design file there that imports 'kdefer',
 * and `npx kdefer check` on it. Pins what the tarball holds (the compiled
 * package, the catalogue; no tests, no sources, no counterexamples), that
 * the installed command line works from the project, and that it starts
 * on compiled JavaScript: nothing is compiled but a TypeScript design file,
 * and the model is loaded once.
 *
 * npm installs from its cache where it can (--prefer-offline): `npm ci`
 * has put every dependency there.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'kdefer-package-'));
const project = join(scratch, 'my-driver');
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const NPM_QUIET = ['--no-audit', '--no-fund', '--loglevel=error'];

function run(command: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = {}): SpawnSyncReturns<string> {
  return spawnSync(command, args, { cwd, encoding: 'utf8', timeout: 180_000, env: { ...process.env, ...env } });
}

/** What `npm pack --json` says of the tarball. */
interface Packed {
  readonly filename: string;
  readonly files: readonly { readonly path: string }[];
}

let packed: Packed;
let tarball: string;

beforeAll(() => {
  // dist/ is fresh (the globalSetup builds it); --ignore-scripts skips a second, clean build.
  const pack = run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', scratch, ...NPM_QUIET], ROOT);
  if (pack.status !== 0) throw new Error(`npm pack failed: ${pack.stderr}`);
  packed = (JSON.parse(pack.stdout) as Packed[])[0]!;
  tarball = join(scratch, packed.filename);
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), `${JSON.stringify({ name: 'my-driver', version: '1.0.0', private: true }, null, 2)}\n`);
  const install = run('npm', ['install', '--save-dev', '--prefer-offline', ...NPM_QUIET, tarball], project);
  if (install.status !== 0) throw new Error(`npm install of the tarball failed: ${install.stderr}`);
}, 300_000);

const ETH_STATS = (lock: 'spin_lock' | 'spin_lock_irqsave') => `import { defineDesign, inc, load, ${lock === 'spin_lock' ? 'spin_lock, spin_unlock' : 'spin_lock, spin_lock_irqsave, spin_unlock, spin_unlock_irqrestore'}, v } from 'kdefer';

export const ethStats = defineDesign({
  name: 'eth-stats',
  cpus: 1,
  locks: { 'priv->lock': 'spinlock' },
  vars: { 'priv->rx_packets': 0 },
  tasks: [{
    name: 'ethtool', cpu: 0,
    body: ${lock === 'spin_lock'
      ? "[spin_lock('priv->lock'), load('n', v('priv->rx_packets')), spin_unlock('priv->lock')]"
      : "[spin_lock_irqsave('priv->lock', 'flags'), load('n', v('priv->rx_packets')), spin_unlock_irqrestore('priv->lock', 'flags')]"},
  }],
  irqs: [{ name: 'eth0', handler: [spin_lock('priv->lock'), inc('priv->rx_packets'), spin_unlock('priv->lock')] }],
});
`;

describe('npm pack', () => {
  it('ships the compiled package and the catalogue, and nothing of the repository', () => {
    const paths = packed.files.map((f) => f.path);
    for (const needed of [
      'package.json', 'README.md', 'dist/scripts/kdefer.js', 'dist/model/index.js', 'dist/model/index.d.ts',
      'dist/model/designs/index.js', 'dist/model/designs/index.d.ts',
    ]) expect(paths).toContain(needed);
    const stray = paths.filter((p) => !/^(?:package\.json|README\.md|dist\/(?:model|scripts|testing)\/.*\.(?:js|d\.ts))$/.test(p));
    expect(stray).toEqual([]);
    expect(paths.filter((p) => /(?:^|\/)(?:properties|counterexamples)\/|\.test\.|(?<!\.d)\.ts$/.test(p))).toEqual([]);
    // Every entry point package.json names is in the tarball.
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      exports: Record<string, string | Record<string, string>>; bin: Record<string, string>; files: string[]; engines: { node: string };
    };
    const targets = [
      ...Object.values(pkg.exports).flatMap((t) => (typeof t === 'string' ? [t] : Object.values(t))),
      ...Object.values(pkg.bin),
    ].map((t) => t.replace(/^\.\//, ''));
    for (const t of targets) expect(paths, t).toContain(t);
    expect(Object.keys(pkg.exports)).toEqual(expect.arrayContaining(['.', './designs', './vitest']));
    expect(pkg.engines.node).toMatch(/^>=20/);
  });
});

describe('installed into a project of its own', () => {
  const bin = () => join(project, 'node_modules', '.bin', 'kdefer');

  it('npx kdefer check finds the bug of a design that imports kdefer, saves it, and replay reproduces it', () => {
    writeFileSync(join(project, 'eth-stats.ts'), ETH_STATS('spin_lock'));
    const check = run('npx', ['--no-install', 'kdefer', 'check', 'eth-stats.ts', '--json'], project);
    expect(check.stderr).toBe('');
    expect(check.status).toBe(1);
    const [verdict] = JSON.parse(check.stdout) as { design: string; status: string; violation: { kind: string }; counterexample: { action: string; file: string } }[];
    expect(verdict).toMatchObject({ design: 'eth-stats', status: 'violation', violation: { kind: 'deadlock' }, counterexample: { action: 'saved', file: 'counterexamples/eth-stats.deadlock.json' } });
    const replay = run(bin(), ['replay', 'counterexamples/eth-stats.deadlock.json'], project);
    expect(replay.stderr).toBe('');
    expect(replay.status).toBe(0);
    expect(replay.stdout).toContain('reproduced: deadlock');
  });

  it('the fixed design is verified, and --update clears the old counterexample', () => {
    writeFileSync(join(project, 'eth-stats.ts'), ETH_STATS('spin_lock_irqsave'));
    const check = run(bin(), ['check', 'eth-stats.ts', '--update'], project);
    expect(check.status).toBe(0);
    expect(check.stdout).toMatch(/^eth-stats\s+modern \(6\.12\+\)\s+1 CPU, eth0≤1\s+-\s+verified\s/m);
    expect(existsSync(join(project, 'counterexamples', 'eth-stats.deadlock.json'))).toBe(false);
  });

  it('a design whose imports chain through other files, as TypeScript writes them (.ts, .js, no extension), in a CommonJS project', () => {
    const chain = join(project, 'chain');
    mkdirSync(join(chain, 'parts'), { recursive: true });
    writeFileSync(join(chain, 'parts', 'index.ts'), ETH_STATS('spin_lock'));
    writeFileSync(join(chain, 'middle.ts'), "export { ethStats as base } from './parts';\n");
    writeFileSync(join(chain, 'top.ts'), "import { defineDesign } from 'kdefer';\nimport { base } from './middle.js';\nexport const top = defineDesign({ ...base, name: 'eth-stats-top' });\n");
    const check = run(bin(), ['check', 'chain/top.ts', '--json', '--no-save'], project);
    expect(check.stderr).toBe('');
    expect(JSON.parse(check.stdout)).toMatchObject([{ design: 'eth-stats-top', violation: { kind: 'deadlock' } }]);
  });

  it('a design in an ES-module project, and one in a plain JavaScript file, load too', () => {
    const esm = join(project, 'esm');
    mkdirSync(esm);
    writeFileSync(join(esm, 'package.json'), '{ "type": "module" }\n');
    writeFileSync(join(esm, 'eth-stats.ts'), ETH_STATS('spin_lock'));
    writeFileSync(join(project, 'eth-stats.mjs'), ETH_STATS('spin_lock'));
    for (const file of ['esm/eth-stats.ts', 'eth-stats.mjs']) {
      const check = run(bin(), ['check', file, '--json', '--no-save'], project);
      expect(check.stderr, file).toBe('');
      expect(JSON.parse(check.stdout)).toMatchObject([{ design: 'eth-stats', violation: { kind: 'deadlock' } }]);
    }
  });

  it('kdefer --version and kdefer list (the catalogue ships)', () => {
    const version = run(bin(), ['--version'], project);
    expect(version.stdout.trim()).toBe(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version);
    const list = run(bin(), ['list', '--json'], project);
    expect(list.status).toBe(0);
    expect((JSON.parse(list.stdout) as unknown[]).length).toBeGreaterThan(50);
  });

  /**
   * Which modules one run resolves and loads (`resolve URL`, `load URL`),
   * through module hooks that log them (node --import of a registration).
   * kdefer's own TypeScript hooks, registered later, run first: a .ts file
   * they compile is seen resolved, not loaded.
   */
  function modulesLoaded(args: readonly string[]): string[] {
    const log = join(scratch, `loads-${args.join('-').replace(/[^\w.-]/g, '_')}.txt`);
    const hooks = join(scratch, 'log-hooks.mjs');
    writeFileSync(hooks, [
      "import { appendFileSync } from 'node:fs';",
      "const log = (line) => appendFileSync(process.env.KDEFER_LOAD_LOG, line + '\\n');",
      'export async function resolve(specifier, context, next) { const r = await next(specifier, context); log(`resolve ${r.url}`); return r; }',
      'export async function load(url, context, next) { log(`load ${url}`); return next(url, context); }',
      '',
    ].join('\n'));
    const registration = join(scratch, 'log-register.mjs');
    // require() (fast-check for the random explorer, model/explore/fast-check.ts) bypasses the hooks: logged here.
    writeFileSync(registration, [
      "import Module, { register } from 'node:module';",
      "import { appendFileSync } from 'node:fs';",
      `register(${JSON.stringify(`file://${hooks}`)});`,
      'const load = Module._load;',
      "Module._load = function (request, ...rest) { appendFileSync(process.env.KDEFER_LOAD_LOG, `require ${request}\\n`); return load.call(this, request, ...rest); };",
      '',
    ].join('\n'));
    writeFileSync(log, '');
    const r = run(process.execPath, ['--import', registration, join(project, 'node_modules', 'kdefer', 'dist', 'scripts', 'kdefer.js'), ...args], project, { KDEFER_LOAD_LOG: log });
    expect(r.status, r.stderr).toBeLessThan(2);
    return readFileSync(log, 'utf8').split('\n').filter((l) => l !== '');
  }
  /** A log line of the fast-check package's loading (not kdefer's own model/explore/fast-check.js, which loads it lazily). */
  const fastCheckLoad = (l: string): boolean => l === 'require fast-check' || /\/node_modules\/fast-check\//.test(l);
  const typescript = (log: readonly string[]) => [...new Set(log.filter((l) => /\.ts(?:\?|$)/.test(l)).map((l) => l.replace(/^\w+ /, '')))];

  it('starts on compiled JavaScript: only a TypeScript design file is compiled, the model is loaded once, list loads no explorer, and only the random explorer loads fast-check', () => {
    writeFileSync(join(project, 'eth-stats.ts'), ETH_STATS('spin_lock'));
    for (const args of [['--version'], ['list'], ['check', 'eth-stats.mjs', '--no-save']]) {
      const urls = modulesLoaded(args);
      expect(typescript(urls), args.join(' ')).toEqual([]);
      // Listing compiles the designs for their bounds: the compiler and the kernel model, no explorer.
      const explorers = urls.filter((l) => l.startsWith('load ') && /\/dist\/model\/(?:index|explore\/(?:dfs|random|shortest))\.js$/.test(l));
      if (args[0] === 'list') expect(explorers).toEqual([]);
      if (args[0] === 'check') expect(explorers.length).toBeGreaterThan(0);
      // fast-check is the random explorer's: neither a listing nor an exhaustive check loads it.
      expect(urls.filter(fastCheckLoad), args.join(' ')).toEqual([]);
    }
    const random = modulesLoaded(['check', 'eth-stats.mjs', '--no-save', '--explorer', 'random', '--runs', '10', '--seed', '1']);
    expect(random.filter(fastCheckLoad)).toContain('require fast-check');
    const ts = modulesLoaded(['check', 'eth-stats.ts', '--no-save']);
    expect(typescript(ts)).toEqual([expect.stringMatching(/\/eth-stats\.ts$/)]);
    // The design's `import 'kdefer'` is the model the command line runs, loaded once.
    expect(ts.filter((l) => l.startsWith('load ') && l.includes('/kdefer/dist/model/index.js'))).toHaveLength(1);
    expect(ts.filter((l) => l.startsWith('load ') && l.includes('/kdefer/dist/model/kernel/machine.js'))).toHaveLength(1);
  });
});

describe('kdefer/vitest in the project\'s own suite', () => {
  /**
   * vitest and @fast-check/vitest are the project's own dev dependencies
   * (kdefer names them as optional peers); rather than installing them
   * again, the project links this repository's copies. TypeScript is this
   * repository's too, run on the project.
   */
  beforeAll(() => {
    for (const name of ['vitest', '@fast-check/vitest']) {
      const link = join(project, 'node_modules', name);
      mkdirSync(join(link, '..'), { recursive: true });
      if (!existsSync(link)) symlinkSync(join(ROOT, 'node_modules', name), link);
    }
    mkdirSync(join(project, 'kernel'), { recursive: true });
    writeFileSync(join(project, 'kernel', 'eth-stats.ts'), `${ETH_STATS('spin_lock')}
export const ethStatsFixed = defineDesign({
  ...ethStats,
  name: 'eth-stats-fixed',
  tasks: [{ name: 'ethtool', cpu: 0, body: [spin_lock_irqsave('priv->lock', 'flags'), load('n', v('priv->rx_packets')), spin_unlock_irqrestore('priv->lock', 'flags')] }],
});
`.replace('spin_lock, spin_unlock', 'spin_lock, spin_lock_irqsave, spin_unlock, spin_unlock_irqrestore'));
    writeFileSync(join(project, 'kernel', 'eth-stats.test.ts'), `import { expect, it } from 'vitest';
import { scheduleProp } from 'kdefer/vitest';
import { ethStats, ethStatsFixed } from './eth-stats.ts';

it('eth-stats deadlocks', () => expect(ethStats).toViolate('deadlock'));
it('the fix holds on 2 CPUs', () => expect(ethStatsFixed).toBeVerified({ cpus: 2 }));
it('the buggy one is not verified (this test fails on purpose)', () => expect(ethStats).toBeVerified());
scheduleProp('every eth0 interrupt is counted', ethStatsFixed, (run) =>
  !run.finished || run.vars['priv->rx_packets'] === run.count('eth0 interrupt arrives'));
`);
    // The project's config: its own test folder, and the matchers registered once for every file.
    writeFileSync(join(project, 'vitest.config.ts'), `import { defineConfig } from 'vitest/config';
export default defineConfig({ test: { include: ['kernel/**/*.test.ts'], setupFiles: ['kdefer/vitest'] } });
`);
    writeFileSync(join(project, 'tsconfig.json'), `${JSON.stringify({
      compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, allowImportingTsExtensions: true, skipLibCheck: true, types: [] },
      include: ['kernel'],
    }, null, 2)}\n`);
  });

  it('the matchers and scheduleProp run in the project\'s vitest; a failing matcher shows the schedule', () => {
    const report = join(scratch, 'vitest-report.json');
    // A clean environment for the inner vitest: none of this run's own VITEST_* settings.
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('VITEST') && k !== 'NODE_OPTIONS'));
    const r = spawnSync(process.execPath, [join(project, 'node_modules', 'vitest', 'vitest.mjs'), 'run', '--reporter=json', `--outputFile=${report}`],
      { cwd: project, encoding: 'utf8', timeout: 180_000, env });
    expect(r.status, r.stderr).toBe(1);
    const results = (JSON.parse(readFileSync(report, 'utf8')) as { testResults: { assertionResults: { title: string; status: string; failureMessages: string[] }[] }[] })
      .testResults.flatMap((f) => f.assertionResults);
    expect(results.map((t) => [t.title, t.status])).toEqual([
      ['eth-stats deadlocks', 'passed'],
      ['the fix holds on 2 CPUs', 'passed'],
      ['the buggy one is not verified (this test fails on purpose)', 'failed'],
      [expect.stringMatching(/^every eth0 interrupt is counted/), 'passed'],
    ]);
    const failure = results[2]!.failureMessages.join('\n');
    expect(failure).toContain("expected design 'eth-stats' to be verified within 1 CPU, ≤1 eth0 interrupt, profile modern (6.12+), preempt none, but found a deadlock:");
    expect(failure).toContain('1  cpu0 [task ethtool]: spin_lock(&priv->lock)');
    expect(failure).toContain('2  cpu0: eth0 interrupt arrives');
    expect(failure).toContain('3  cpu0 [hardirq eth0]: spin_lock(&priv->lock): &priv->lock is busy, spins');
  });

  it('the published types check a design and the matchers: a misspelled key or kind is a type error', () => {
    writeFileSync(join(project, 'kernel', 'typos.ts'), `import { expect } from 'vitest';
import 'kdefer/vitest';
import { defineDesign } from 'kdefer';
import { ethStats } from './eth-stats.ts';

export const typo = defineDesign({ name: 'typo', cpus: 1, tasks: [], irq: [] });
export const kind = () => expect(ethStats).toViolate('deadlok');
`);
    const tsc = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', project], { cwd: project, encoding: 'utf8', timeout: 120_000 });
    const errors = tsc.stdout.split('\n').filter((l) => /error TS\d+/.test(l));
    expect(errors).toEqual([
      expect.stringMatching(/^kernel\/typos\.ts\(6,\d+\): error TS2561: .*'irq' does not exist in type 'Design'\. Did you mean to write 'irqs'\?/),
      expect.stringMatching(/^kernel\/typos\.ts\(7,\d+\): error TS2345: Argument of type '"deadlok"' is not assignable/),
    ]);
  });
});
