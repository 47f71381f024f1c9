/**
 * Sizes in bytes, as the command line reads them (--max-memory 2G) and as
 * messages print them (1 GiB), in powers of 1024. No imports: the command
 * line's flag parser loads this without loading the model.
 */

/** "1 GiB", "512 MiB", "3.5 MiB": a byte count for messages. */
export function bytesText(n: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let u = 0;
  let x = n;
  while (x >= 1024 && u < units.length - 1) {
    x /= 1024;
    u++;
  }
  const digits = u === 0 || Number.isInteger(x) ? 0 : x < 10 ? 1 : 0;
  return `${x.toFixed(digits)} ${units[u]}`;
}

/**
 * "512M", "2G", "1.5GiB", "800MB", "64k", "1073741824" (bytes): a size in
 * bytes, in powers of 1024; null if the text is not one.
 */
export function parseSize(text: string): number | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*$/i.exec(text);
  if (!m) return null;
  const scale = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g' | 't'];
  const n = Math.floor(Number(m[1]) * scale);
  return Number.isSafeInteger(n) && n > 0 ? n : null;
}
