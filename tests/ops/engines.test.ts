import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';

/**
 * package.json's `engines` must allow only Node versions that have every API the code
 * uses: a newer-than-20.0 API found in src/ or workers/ raises the floor.
 */
const root = join(import.meta.dirname, '..', '..');
const NEWER_APIS: { pattern: RegExp; since: [number, number]; name: string }[] = [
  { pattern: /AbortSignal\.any\(/, since: [20, 3], name: 'AbortSignal.any' },
  { pattern: /\.isWellFormed\(/, since: [20, 0], name: 'String.prototype.isWellFormed' },
];

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return files(path);
    return /\.tsx?$/.test(entry.name) ? [path] : [];
  });
}

it('declares a Node floor that has every API the code calls', () => {
  const engines = (
    JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { engines: { node: string } }
  ).engines.node;
  const [, major = '0', minor = '0'] = /^>=(\d+)(?:\.(\d+))?/.exec(engines) ?? [];
  const floor = [Number(major), Number(minor)];
  const source = [...files(join(root, 'src')), ...files(join(root, 'workers'))]
    .map((file) => readFileSync(file, 'utf8'))
    .join('\n');
  const used = NEWER_APIS.filter((api) => api.pattern.test(source));
  expect(used.map((api) => api.name)).toContain('AbortSignal.any');
  const tooOld = used.filter(
    ({ since }) => floor[0]! < since[0] || (floor[0] === since[0] && floor[1]! < since[1]),
  );
  expect(
    tooOld.map((api) => `${api.name} needs Node ${api.since.join('.')}, engines says ${engines}`),
  ).toEqual([]);
});
