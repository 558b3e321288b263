import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CONFIG_VARIABLES, loadConfig } from '../../src/config.js';
import { NEXUS_BREAKER_OPEN_PERIOD } from '../../src/local/temporal-dev-server.js';

// docker-compose.yml and the Dockerfile against what the code reads (src/config.ts).

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const COMPOSE_PATH = `${ROOT}docker-compose.yml`;
const DOCKERFILE_PATH = `${ROOT}Dockerfile`;

/** Variables allowed in the app containers' `environment` although src/config.ts does not read them. */
const EXTRA_VARIABLES = new Set(['NODE_ENV']);
const APP_SERVICES = ['worker', 'api'] as const;
const EXPECTED_COMMAND = { worker: ['npm', 'run', 'worker'], api: ['npm', 'run', 'api'] } as const;

type Service = Record<string, unknown>;

function loadCompose(): Record<string, Service> {
  const document: unknown = parse(readFileSync(COMPOSE_PATH, 'utf8'));
  if (!isRecord(document) || !isRecord(document.services)) throw new Error('docker-compose.yml has no `services:` map');
  const services: Record<string, Service> = {};
  for (const [name, service] of Object.entries(document.services)) {
    if (!isRecord(service)) throw new Error(`service ${name} is not a map`);
    services[name] = service;
  }
  return services;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `environment:` as a map, whether written as a map or as a list of `KEY=value`. */
function environmentOf(service: Service): Record<string, string> {
  const { environment } = service;
  if (environment === undefined || environment === null) return {};
  const entries: [string, string][] = Array.isArray(environment)
    ? environment.map((item) => {
        const text = String(item);
        const eq = text.indexOf('=');
        return eq === -1 ? [text, ''] : [text.slice(0, eq), text.slice(eq + 1)];
      })
    : Object.entries(environment as Record<string, unknown>).map(([key, value]) => [key, value === null ? '' : String(value)]);
  return Object.fromEntries(entries);
}

/**
 * Resolves compose interpolation the way `docker compose` would with none of the variables set,
 * except that a required `${NAME:?message}` gets a stand-in value (the user must supply one).
 */
function interpolate(value: string): string {
  return value
    .replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}/g, (_match, name: string, operator?: string, argument?: string) => {
      if (operator === ':-' || operator === '-') return argument ?? '';
      if (operator === ':?' || operator === '?') return `stand-in-${name.toLowerCase()}`;
      return '';
    })
    .replace(/\$\$/g, '$');
}

function resolved(environment: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(environment).map(([key, value]) => [key, interpolate(value)]));
}

/** A command as an argv list: compose `command:` (list or string) or a Dockerfile CMD (exec or shell form). */
function argv(command: unknown): string[] {
  if (Array.isArray(command)) return command.map(String);
  if (typeof command === 'string') {
    const trimmed = command.trim();
    if (trimmed.startsWith('[')) return (JSON.parse(trimmed) as unknown[]).map(String);
    return trimmed.split(/\s+/);
  }
  throw new Error(`not a command: ${JSON.stringify(command)}`);
}

function dockerfileCmd(): string[] {
  const lines = readFileSync(DOCKERFILE_PATH, 'utf8').split('\n');
  const cmd = lines.filter((line) => /^\s*CMD\s/i.test(line)).at(-1);
  if (!cmd) throw new Error('the Dockerfile has no CMD');
  return argv(cmd.replace(/^\s*CMD\s+/i, ''));
}

function dependsOn(service: Service): string[] {
  const { depends_on: deps } = service;
  if (deps === undefined) return [];
  if (Array.isArray(deps)) return deps.map(String);
  if (isRecord(deps)) return Object.keys(deps);
  throw new Error(`depends_on is neither a list nor a map: ${JSON.stringify(deps)}`);
}

function service(services: Record<string, Service>, name: string): Service {
  const found = services[name];
  if (!found) throw new Error(`docker-compose.yml has no service ${name}`);
  return found;
}

describe('docker-compose.yml', () => {
  const services = loadCompose();

  it('has the database, Temporal, its UI, the worker and the API', () => {
    expect(Object.keys(services)).toEqual(expect.arrayContaining(['postgresql', 'temporal', 'temporal-ui', 'worker', 'api']));
  });

  it("gives Temporal the dev server's open period of the Nexus circuit breaker", () => {
    const document = parse(readFileSync(COMPOSE_PATH, 'utf8'));
    const dynamicConfig = parse(document.configs['temporal-dynamic-config'].content);
    expect(dynamicConfig['history.outboundQueue.circuitBreakerSettings']).toEqual([{ value: { timeout: NEXUS_BREAKER_OPEN_PERIOD } }]);
  });

  it('builds worker and api from the Dockerfile and runs the right npm script in each', () => {
    expect(existsSync(DOCKERFILE_PATH)).toBe(true);
    for (const name of APP_SERVICES) {
      const { build, command } = service(services, name);
      const context = isRecord(build) ? build.context : build;
      expect(context, `${name}: build context`).toMatch(/^\.\/?$/);
      expect(command === undefined ? dockerfileCmd() : argv(command), `${name}: command`).toEqual(EXPECTED_COMMAND[name]);
    }
  });

  for (const name of APP_SERVICES) {
    describe(`${name} environment`, () => {
      const environment = environmentOf(service(services, name));

      it('sets every variable the service reads (src/config.ts CONFIG_VARIABLES)', () => {
        const missing = CONFIG_VARIABLES.filter((variable) => !(variable in environment));
        expect(missing, `add these to ${name}.environment in docker-compose.yml`).toEqual([]);
      });

      it('sets no variable that the service does not read', () => {
        const known = new Set(CONFIG_VARIABLES);
        const unknown = Object.keys(environment).filter((key) => !known.has(key) && !EXTRA_VARIABLES.has(key));
        expect(unknown, 'a typo, or a variable src/config.ts no longer reads').toEqual([]);
      });

      it('is a configuration the service accepts', () => {
        const config = loadConfig(resolved(environment));
        expect(config.DATABASE_URL, 'DATABASE_URL').toBeTruthy();
        expect(config.TEMPORAL_ADDRESS, 'TEMPORAL_ADDRESS').toBeTruthy();
      });

      it('reaches the compose PostgreSQL and Temporal by their service names', () => {
        const databaseUrl = new URL(interpolate(environment.DATABASE_URL ?? ''));
        expect(databaseUrl.protocol).toMatch(/^postgres(ql)?:$/);
        expect(databaseUrl.hostname).toBe('postgresql');
        expect(String(service(services, 'postgresql').image)).toMatch(/^postgres:/);
        // the database named in the URL is the one the postgres image creates
        expect(databaseUrl.pathname).toBe(`/${environmentOf(service(services, 'postgresql')).POSTGRES_DB}`);

        const [host, port] = interpolate(environment.TEMPORAL_ADDRESS ?? '').split(':');
        expect(host).toBe('temporal');
        expect(port).toBe('7233');
        expect(String(service(services, 'temporal').image)).toMatch(/^temporalio\//);
        // the namespace Temporal's auto-setup creates is the one the service uses
        expect(environment.TEMPORAL_NAMESPACE).toBe(environmentOf(service(services, 'temporal')).DEFAULT_NAMESPACE);
      });
    });
  }

  it('makes the user choose the API token', () => {
    const environment = environmentOf(service(services, 'api'));
    // required interpolation: `docker compose` refuses to start without it
    expect(environment.PROMO_API_TOKENS).toMatch(/^\$\{PROMO_API_TOKENS:\?[^}]+\}$/);
    expect(loadConfig(resolved(environment)).apiTokens.length).toBeGreaterThan(0);
  });

  it('publishes the API on the port it listens on, and checks its readiness', () => {
    const api = service(services, 'api');
    const port = environmentOf(api).PORT;
    const ports = (Array.isArray(api.ports) ? api.ports : []).map((mapping) => interpolate(String(mapping)));
    expect(ports.some((mapping) => mapping.split(':').at(-1) === port), `ports ${JSON.stringify(ports)} publish container port ${port}`).toBe(true);
    const healthcheck = isRecord(api.healthcheck) ? api.healthcheck : {};
    expect(argv(healthcheck.test).join(' ')).toContain(`:${port}/readyz`);
  });

  it('depends only on services that exist', () => {
    const names = new Set(Object.keys(services));
    for (const [name, definition] of Object.entries(services)) {
      for (const dependency of dependsOn(definition)) {
        expect(names.has(dependency), `${name} depends on unknown service ${dependency}`).toBe(true);
      }
    }
  });
});

describe('Dockerfile', () => {
  it('runs the API by default, as a non-root user', () => {
    expect(existsSync(DOCKERFILE_PATH)).toBe(true);
    expect(dockerfileCmd()).toEqual(['npm', 'run', 'api']);
    const users = readFileSync(DOCKERFILE_PATH, 'utf8')
      .split('\n')
      .filter((line) => /^\s*USER\s/i.test(line));
    expect(users.length, 'the Dockerfile sets a USER').toBeGreaterThan(0);
    expect(users.at(-1)?.replace(/^\s*USER\s+/i, '').trim()).not.toMatch(/^(root|0)(:|$)/);
  });
});
