import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * Keeps the benchmark harness from rotting: runs `npm run bench -- --quick` (every
 * section for a few seconds, tiny sizes) against TEST_DATABASE_URL's server and checks
 * that it wrote one table with every section and no failed section. It asserts nothing
 * about speed. Skipped without TEST_DATABASE_URL (the benchmark needs real Postgres and
 * pgbench).
 */
const run = promisify(execFile);
const databaseUrl = process.env.TEST_DATABASE_URL;
const root = join(import.meta.dirname, '..', '..');

describe.skipIf(!databaseUrl)('benchmark harness (quick mode)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'leadrelay-bench-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('prints and writes a table with every section', { timeout: 240_000 }, async () => {
    const out = join(dir, 'RESULTS.md');
    const { stdout } = await run(
      process.execPath,
      [
        join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs'),
        join(root, 'bench', 'run.ts'),
        '--quick',
        '--out',
        out,
      ],
      {
        cwd: root,
        env: { ...process.env, DATABASE_URL: databaseUrl },
        maxBuffer: 16 << 20,
        timeout: 230_000,
      },
    );
    const written = readFileSync(out, 'utf8');
    expect(written).toContain('quick mode');
    for (const text of [stdout, written]) {
      expect(text).toContain('| Section | Measurement | leadrelay | Reference |');
      expect(text).not.toContain('| FAILED |');
      for (const section of ['Intake', 'Drain', 'End-to-end', 'Scale', 'Conversations', 'Memory']) {
        expect(text).toMatch(new RegExp(`^\\| ${section} \\|`, 'm'));
      }
    }
    expect(written).toMatch(/\| Intake \| API leads\/s ÷ pgbench calls\/s \|/);
    expect(written).toMatch(/\| Drain \| best leadrelay ÷ best graphile-worker/);
    expect(written).toMatch(/\| End-to-end \| p99 latency/);
    expect(written).toMatch(/\| Scale \| claim of one batch of 10/);
    expect(written).toMatch(/\| Conversations \| visitor's 201 → admin stream event/);
  });
});
