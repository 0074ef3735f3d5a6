import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { runCli } from '../../src/cli/leadrelay.js';
import { loadConfig } from '../../src/config.js';

/**
 * render.yaml is a blueprint Render can apply, and everything it names exists: npm
 * scripts, the compiled entry points' sources, CLI subcommands, environment variables
 * (documented in .env.example), and secrets are never synced from the file.
 */
const root = join(import.meta.dirname, '..', '..');
const blueprint = parse(readFileSync(join(root, 'render.yaml'), 'utf8')) as {
  envVarGroups?: { name: string; envVars: EnvVar[] }[];
  services: Service[];
};
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  scripts: Record<string, string>;
  bin: Record<string, string>;
  devDependencies?: Record<string, string>;
};
const buildInclude = (
  JSON.parse(readFileSync(join(root, 'tsconfig.build.json'), 'utf8')) as { include: string[] }
).include;
const documentedEnv = new Set(
  [...readFileSync(join(root, '.env.example'), 'utf8').matchAll(/^([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]!),
);

interface EnvVar {
  key?: string;
  value?: string;
  sync?: boolean;
  generateValue?: boolean;
  fromGroup?: string;
}
interface Service {
  type: string;
  name: string;
  runtime: string;
  buildCommand: string;
  startCommand: string;
  preDeployCommand?: string;
  healthCheckPath?: string;
  schedule?: string;
  envVars: EnvVar[];
}

const SECRETS = new Set([
  'DATABASE_URL',
  'SUPABASE_SERVICE_ROLE_KEY',
  'ADMIN_API_KEY',
  'SLACK_WEBHOOK_URL',
  'TELEGRAM_BOT_TOKEN',
  'EMAIL_PASS',
  'REDIS_URL',
]);
/** Variables Render itself reads. */
const PLATFORM_ENV = new Set(['NODE_VERSION']);

/** Checks one shell step of a build/start command and returns what was wrong, if anything. */
async function problemsWith(step: string): Promise<string[]> {
  const words = step.trim().split(/\s+/);
  if (words[0] === 'npm' && words[1] === 'ci' && words.slice(2).every((w) => w === '--include=dev'))
    return [];
  if (words[0] === 'npm' && words[1] === 'run') {
    return pkg.scripts[words[2]!] ? [] : [`npm script "${words[2]}" does not exist`];
  }
  if (words[0] === 'node') {
    const file = words[1]!;
    const match = /^dist\/(.+)\.js$/.exec(file);
    if (!match) return [`${file} is not a compiled file under dist/`];
    const source = `${match[1]}.ts`;
    if (!existsSync(join(root, source))) return [`${file}: no source ${source}`];
    if (!buildInclude.includes(source.split('/')[0]!)) return [`${source} is not compiled by npm run build`];
    if (file === pkg.bin.leadrelay && words[2]) {
      const code = await runCli([words[2], '--help'], { env: {}, out: () => {}, err: () => {} });
      if (code !== 0) return [`leadrelay has no subcommand "${words[2]}"`];
    }
    return [];
  }
  return [`unrecognised step "${step}"`];
}

describe('render.yaml', () => {
  it('has a web service with a health check and a background worker', () => {
    const web = blueprint.services.find((s) => s.type === 'web');
    expect(web?.healthCheckPath).toBe('/health');
    expect(blueprint.services.some((s) => s.type === 'worker')).toBe(true);
    for (const service of blueprint.services) {
      expect(service.runtime, service.name).toBe('node');
      expect(service.buildCommand, service.name).toBeTruthy();
      expect(service.startCommand, service.name).toBeTruthy();
      if (service.type === 'cron') expect(service.schedule).toMatch(/^(\S+\s+){4}\S+$/);
    }
  });

  it('installs the build tools although the services run with NODE_ENV=production', () => {
    // `npm ci` omits devDependencies when NODE_ENV is production, and the build's
    // compilers (tsc, esbuild) are devDependencies: without --include=dev the build fails.
    expect(Object.keys(pkg.devDependencies ?? {})).toEqual(expect.arrayContaining(['typescript', 'esbuild']));
    const production = (blueprint.envVarGroups ?? []).some((group) =>
      group.envVars.some((v) => v.key === 'NODE_ENV' && v.value === 'production'),
    );
    expect(production).toBe(true);
    for (const service of blueprint.services) {
      expect(service.buildCommand, service.name).toMatch(/npm ci --include=dev\b/);
    }
  });

  it('names only npm scripts, compiled entry points and CLI subcommands that exist', async () => {
    const problems: string[] = [];
    for (const service of blueprint.services) {
      for (const command of [service.buildCommand, service.preDeployCommand, service.startCommand]) {
        if (!command) continue;
        for (const step of command.split('&&')) {
          problems.push(...(await problemsWith(step)).map((p) => `${service.name}: ${p}`));
        }
      }
    }
    expect(problems).toEqual([]);
    expect(pkg.scripts.build).toContain('tsconfig.build.json');
    expect(pkg.bin.leadrelay).toBe('dist/src/cli/leadrelay.js');
  });

  it('lists documented variables only, and never syncs a secret from the file', () => {
    const groups = new Map((blueprint.envVarGroups ?? []).map((g) => [g.name, g.envVars]));
    const all: { owner: string; env: EnvVar }[] = [
      ...[...groups].flatMap(([name, vars]) => vars.map((env) => ({ owner: `group ${name}`, env }))),
      ...blueprint.services.flatMap((s) => s.envVars.map((env) => ({ owner: s.name, env }))),
    ];
    for (const { owner, env } of all) {
      if (env.fromGroup) {
        expect(groups.has(env.fromGroup), `${owner}: group ${env.fromGroup}`).toBe(true);
        continue;
      }
      const key = env.key!;
      expect(documentedEnv.has(key) || PLATFORM_ENV.has(key), `${owner}: ${key} is not in .env.example`).toBe(
        true,
      );
      if (SECRETS.has(key)) {
        expect(owner.startsWith('group'), `${key} must not sit in a group`).toBe(false);
        expect(env.sync === false || env.generateValue === true, `${owner}: ${key} must be sync: false`).toBe(
          true,
        );
        expect(env.value, `${owner}: ${key} must have no value in the file`).toBeUndefined();
      }
    }
    const worker = blueprint.services.find((s) => s.type === 'worker')!;
    expect(worker.envVars.some((e) => e.key === 'DATABASE_URL')).toBe(true);
  });

  it('trusts named proxy ranges (never a hop count), and the config accepts them', () => {
    const web = blueprint.services.find((s) => s.type === 'web')!;
    const value = web.envVars.find((e) => e.key === 'TRUST_PROXY')?.value;
    expect(value).toMatch(/^10\.0\.0\.0\/8,/);
    const trusted = loadConfig({ ADMIN_API_KEY: 'k'.repeat(32), TRUST_PROXY: value }).http.trustProxy;
    expect(Array.isArray(trusted) && trusted.length > 1).toBe(true);
  });
});
