import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eraseLead } from '../../src/privacy/erasure.js';
import { createTestDatabase, hasPostgres, type TestDatabase } from '../helpers/databases.js';
import { seedPersonEverywhere } from './fixtures.js';

/**
 * The acceptance test: after erasure, a full `pg_dump` of the database (schema
 * and data, every table) contains neither the email nor the phone, in any of the forms
 * they were stored or typed in. Postgres only (PGlite has no pg_dump).
 */
const run = promisify(execFile);

/** pg_dump on PATH, else the newest under /usr/lib/postgresql/<version>/bin; undefined when none. */
async function findPgDump(): Promise<string | undefined> {
  try {
    await run('pg_dump', ['--version']);
    return 'pg_dump';
  } catch {}
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(`${root}/${v}/bin/pg_dump`))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? `${root}/${versions[0]}/bin/pg_dump` : undefined;
}

const pgDump = hasPostgres ? await findPgDump() : undefined;
if (hasPostgres && !pgDump) {
  console.warn(
    'Skipping the pg_dump erasure test: pg_dump not found on PATH or in /usr/lib/postgresql/*/bin.',
  );
}

describe.skipIf(!pgDump)('a full pg_dump after erasure [postgres]', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase('postgres', { poolMax: 3 });
  });
  afterAll(async () => {
    await db?.close();
  });

  const dump = async () =>
    (await run(pgDump!, ['--no-owner', '--no-privileges', db.url!], { maxBuffer: 256 * 1024 * 1024 })).stdout;

  it('holds neither the email nor the phone (nor the name), in any spelling, once the lead is erased', async () => {
    const person = await seedPersonEverywhere(db.storage, 'dump');
    const bystander = await seedPersonEverywhere(db.storage, 'kept');
    // Every form the contact could take: as stored, as typed, without the plus, local.
    const forms = [
      person.email,
      person.email.toUpperCase(),
      person.phone,
      person.phone.slice(1),
      `0${person.phone.slice(4)}`,
      person.name,
    ];
    const found = (text: string) => forms.filter((form) => text.toLowerCase().includes(form.toLowerCase()));

    const before = await dump();
    expect(found(before)).toEqual(expect.arrayContaining([person.email, person.phone, person.name]));

    const result = await eraseLead(db.storage, person.id, { actor: 'Privacy Officer' });
    expect(result.erased).toBe(true);

    const after = await dump();
    expect(found(after)).toEqual([]);
    // The dump is whole: the other person and the tombstone are in it.
    expect(after).toContain(bystander.email);
    expect(after).toContain(person.id);
    console.log(
      `privacy: pg_dump of ${(after.length / 1024).toFixed(0)} KiB after erasure: 0 of ${forms.length} forms of the erased contact found (${found(before).length} before)`,
    );
  });
});
