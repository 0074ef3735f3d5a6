import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { packageRoot } from '../package-root.js';

/**
 * Bundles the dashboard (src/dashboard/client, TypeScript + Preact) into
 * dist/dashboard: one script and one stylesheet with content hashes in their names,
 * index.html pointing at them, and a Brotli and a gzip copy of each file, so the API
 * serves compressed bytes without compressing per request. Run by `npm run build`;
 * the browser test calls buildDashboard() itself so a plain `npm test` works.
 *
 * esbuild because it is one dependency with no configuration file, type-strips and
 * bundles TypeScript/JSX in well under a second, and its output is plain ES2020.
 * Type checking stays with tsc (tsconfig.dashboard.json, part of `npm run typecheck`).
 */
export const DASHBOARD_DIST = join(packageRoot(), 'dist', 'dashboard');
const CLIENT = join(packageRoot(), 'src', 'dashboard', 'client');

export async function buildDashboard(target = DASHBOARD_DIST): Promise<string[]> {
  // Built beside the target and swapped in at the end, so a server starting meanwhile
  // reads the old bundle or the new one, never half of one.
  const outDir = `${target}.tmp-${process.pid}`;
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const result = await build({
    entryPoints: [join(CLIENT, 'main.tsx')],
    bundle: true,
    minify: true,
    format: 'esm',
    target: 'es2020',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    entryNames: '[name]-[hash]',
    outdir: outDir,
    metafile: true,
    legalComments: 'none',
    logLevel: 'warning',
  });
  const outputs = Object.keys(result.metafile.outputs).map((path) => basename(path));
  const script = outputs.find((name) => name.endsWith('.js'));
  const style = outputs.find((name) => name.endsWith('.css'));
  if (!script || !style) throw new Error(`dashboard build produced ${outputs.join(', ')}`);
  const html = readFileSync(join(CLIENT, 'index.html'), 'utf8')
    .replace('/admin/main.css', `/admin/${style}`)
    .replace('/admin/main.js', `/admin/${script}`);
  writeFileSync(join(outDir, 'index.html'), html);
  const files = ['index.html', script, style];
  for (const file of files) {
    const body = readFileSync(join(outDir, file));
    writeFileSync(
      join(outDir, `${file}.br`),
      brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }),
    );
    writeFileSync(join(outDir, `${file}.gz`), gzipSync(body, { level: 9 }));
  }
  rmSync(target, { recursive: true, force: true });
  renameSync(outDir, target);
  return files;
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/** Builds the bundle when it is missing or older than its sources (tests call this). */
export async function ensureDashboardBuilt(): Promise<void> {
  let built = 0;
  try {
    built = statSync(join(DASHBOARD_DIST, 'index.html')).mtimeMs;
  } catch {}
  const sources = Math.max(
    newestMtime(CLIENT),
    statSync(join(packageRoot(), 'src', 'dashboard', 'build.ts')).mtimeMs,
  );
  if (built < sources) await buildDashboard();
}

/**
 * The visitor widget (src/widget, issue 14): one self-contained ES module, no
 * dependencies, minified into dist/widget/leadrelay.js. No hash in the name: sites
 * include /widget/leadrelay.js as it is (src/http/routes/widget.ts serves it with a
 * short cache and an ETag, and compresses it once at start, after writing the
 * server's settings into it).
 */
export const WIDGET_DIST = join(packageRoot(), 'dist', 'widget');
const WIDGET_SRC = join(packageRoot(), 'src', 'widget');

export async function buildWidget(target = WIDGET_DIST): Promise<number> {
  mkdirSync(target, { recursive: true });
  const outFile = join(target, 'leadrelay.js');
  const tmp = `${outFile}.tmp-${process.pid}`;
  await build({
    entryPoints: [join(WIDGET_SRC, 'leadrelay.ts')],
    bundle: true,
    minify: true,
    format: 'esm',
    target: 'es2020',
    outfile: tmp,
    legalComments: 'none',
    logLevel: 'warning',
  });
  renameSync(tmp, outFile);
  return statSync(outFile).size;
}

/** Builds the widget when it is missing or older than its sources (tests call this). */
export async function ensureWidgetBuilt(): Promise<void> {
  let built = 0;
  try {
    built = statSync(join(WIDGET_DIST, 'leadrelay.js')).mtimeMs;
  } catch {}
  const sources = Math.max(
    newestMtime(WIDGET_SRC),
    statSync(join(packageRoot(), 'src', 'dashboard', 'build.ts')).mtimeMs,
  );
  if (built < sources) await buildWidget();
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const files = await buildDashboard();
  process.stdout.write(`dashboard built into dist/dashboard: ${files.join(', ')}\n`);
  const bytes = await buildWidget();
  process.stdout.write(`widget built into dist/widget/leadrelay.js (${bytes} bytes)\n`);
}
