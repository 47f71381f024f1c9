/**
 * vitest globalSetup: the command-line tests run the compiled kdefer
 * (dist/scripts/kdefer.js, the package's bin), so dist/ is brought up to
 * date with the sources first (scripts/build.mjs rebuilds only when a
 * source is newer than the last build).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export default function setup(): void {
  const build = fileURLToPath(new URL('../../scripts/build.mjs', import.meta.url));
  const r = spawnSync(process.execPath, [build], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`npm run build failed (exit ${r.status}):\n${r.stdout}${r.stderr}`);
}
