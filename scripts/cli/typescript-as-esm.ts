/**
 * Module hooks (node:module register) that load every TypeScript design
 * file as an ES module, whatever the package around it says.
 *
 * Why: tsx loads a .ts file outside a "type": "module" package as
 * CommonJS, and its CommonJS path loads kdefer (an ES-module package) a
 * second time, as a separate copy of the whole model, transformed on every
 * run: a second or more of start-up for nothing. As an ES module, a design
 * file's `import … from 'kdefer'` resolves to the very module the command
 * line runs. A design file is written with import/export (the README's
 * form); one written as CommonJS (require, module.exports) should be named
 * .cts, which these hooks leave alone.
 *
 * Registered after tsx's own hooks, so they run first and hand tsx the
 * format to produce.
 */

/** TypeScript sources that are ES modules here: .ts and .tsx (.mts already is one; .cts is CommonJS). */
const TYPESCRIPT_MODULE = /\.(?:ts|tsx)$/;

const isDesignSource = (url: string): boolean => url.startsWith('file:') && TYPESCRIPT_MODULE.test(new URL(url).pathname);

interface Resolved {
  readonly url: string;
  readonly format?: string | null;
}
interface Loaded {
  readonly format: string;
  readonly source?: unknown;
}

export async function resolve(
  specifier: string,
  context: object,
  nextResolve: (specifier: string, context: object) => Promise<Resolved>,
): Promise<Resolved> {
  const resolved = await nextResolve(specifier, context);
  return isDesignSource(resolved.url) ? { ...resolved, format: 'module' } : resolved;
}

export async function load(
  url: string,
  context: { readonly format?: string | null },
  nextLoad: (url: string, context: object) => Promise<Loaded>,
): Promise<Loaded> {
  if (!isDesignSource(url)) return nextLoad(url, context);
  const loaded = await nextLoad(url, { ...context, format: 'module' });
  return { ...loaded, format: 'module' };
}
