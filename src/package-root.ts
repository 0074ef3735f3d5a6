import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The folder holding package.json. Files that are not compiled (SQL migrations, the
 * dashboard's static files) are read from here, so the same code works from src/
 * (tsx, tests) and from dist/ (production).
 */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('Cannot find the leadrelay package root');
    dir = parent;
  }
  return dir;
}
