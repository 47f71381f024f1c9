#!/usr/bin/env node
/**
 * npm run build: compile kdefer to JavaScript in dist/ (tsc -p
 * tsconfig.build.json: the model, the vitest helpers and the command line,
 * with their .d.ts), so the installed `kdefer` starts without compiling
 * TypeScript. Plain JavaScript itself, so it runs before anything is built.
 *
 *   node scripts/build.mjs           build if a source is newer than the last build
 *   node scripts/build.mjs --clean   remove dist/ and build it whole (npm ci, npm pack)
 *
 * It writes dist/.build-stamp after a good build; the compiled command line
 * compares it with the sources and warns when a checkout's dist/ is stale.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const DIST = join(ROOT, 'dist');
const STAMP = join(DIST, '.build-stamp');
/** What the build reads: a change to any of these makes dist/ stale. */
export const BUILD_INPUTS = ['model', 'testing', 'scripts/kdefer.ts', 'scripts/cli', 'tsconfig.json', 'tsconfig.build.json'];

/** Whether dist/ is older than a source it is built from (or missing). */
export function isStale(root = ROOT) {
  const stamp = join(root, 'dist', '.build-stamp');
  // 1 ms of slack: utimes keeps the stamp's time to a little less than a millisecond.
  return !existsSync(stamp) || statSync(stamp).mtimeMs + 1 < newestInput(root);
}

/** The newest modification time among the build's inputs, in ms. */
export function newestInput(root = ROOT) {
  let newest = 0;
  const visit = (path) => {
    let st;
    try {
      st = statSync(path);
    } catch {
      return;
    }
    if (st.isDirectory()) {
      for (const name of readdirSync(path)) visit(join(path, name));
    } else if (!path.endsWith('.test.ts')) {
      newest = Math.max(newest, st.mtimeMs);
    }
  };
  for (const input of BUILD_INPUTS) visit(join(root, input));
  return newest;
}

function build({ clean }) {
  if (clean) rmSync(DIST, { recursive: true, force: true });
  else if (!isStale()) return 0;
  const started = newestInput();
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', join(ROOT, 'tsconfig.build.json')], { stdio: 'inherit' });
  if (r.status !== 0) return r.status ?? 1;
  // The stamp carries the time of the newest input built, so an edit made
  // while tsc ran is still newer than the stamp.
  writeFileSync(STAMP, `built from sources as of ${new Date(started).toISOString()}\n`);
  utimesSync(STAMP, started / 1000, started / 1000);
  return 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.exitCode = build({ clean: process.argv.includes('--clean') });
}
