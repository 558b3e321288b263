import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context, MiddlewareHandler } from 'hono';
import { type FieldError, ValidationError } from '../domain/errors.js';
import { problem } from './problem.js';
import { mayHoldUnstorable, printable, unstorableStrings, unstorableText } from './text-guard.js';

interface DeclaredPath {
  pattern: RegExp;
  /** the parameter's name at each segment, or undefined for a literal segment */
  params: (string | undefined)[];
  methods: Set<string>;
}

/**
 * The paths the app declares in its OpenAPI registry, with their methods; read on first use,
 * once every route is registered.
 */
export function declaredPaths(app: OpenAPIHono): (pathname: string) => DeclaredPath | undefined {
  let paths: DeclaredPath[] | undefined;
  const build = (): DeclaredPath[] => {
    const byPath = new Map<string, Set<string>>();
    for (const definition of app.openAPIRegistry.definitions) {
      if (definition.type !== 'route') continue;
      const methods = byPath.get(definition.route.path) ?? new Set<string>();
      methods.add(definition.route.method.toUpperCase());
      byPath.set(definition.route.path, methods);
    }
    return [...byPath].map(([path, methods]) => {
      const segments = path.split('/');
      const params = segments.map((segment) => /^\{(.+)\}$/.exec(segment)?.[1]);
      const source = segments.map((segment, i) => (params[i] ? '[^/]+' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))).join('/');
      return { pattern: new RegExp(`^${source}$`), params, methods };
    });
  };
  return (pathname) => {
    paths ??= build();
    const matching = paths.filter((declared) => declared.pattern.test(pathname));
    if (matching.length <= 1) return matching[0];
    // several match: the router takes any of their methods; the most literal one names the parameters
    const [mostLiteral] = [...matching].sort((a, b) => a.params.filter(Boolean).length - b.params.filter(Boolean).length);
    return { ...mostLiteral!, methods: new Set(matching.flatMap((declared) => [...declared.methods])) };
  };
}

/**
 * A method the path does not declare is a 405 naming those it does (GET brings HEAD); an
 * unknown path, or a handler's own not-found on a declared method, stays a 404.
 */
export function notFoundOrNotAllowed(app: OpenAPIHono) {
  const declared = declaredPaths(app);
  return (c: Context): Response => {
    const methods = declared(new URL(c.req.url).pathname)?.methods;
    if (!methods || methods.has(c.req.method.toUpperCase()) || (c.req.method === 'HEAD' && methods.has('GET'))) {
      return problem(c, 404, `No route for ${c.req.method} ${c.req.path}.`);
    }
    const allow = [...methods, ...(methods.has('GET') ? ['HEAD'] : [])].sort().join(', ');
    c.header('Allow', allow);
    return problem(c, 405, `${c.req.path} does not take ${c.req.method}; it takes ${allow}.`);
  };
}

const JSON_TYPE = /^application\/([\w.-]+\+)?json$/;
const decode = (segment: string): string => {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
};

/**
 * PostgreSQL stores no NUL character and no lone surrogate: a request that carries one in a
 * path segment, a query parameter (name or value) or a JSON body (keys or values) is a 400
 * naming where, before any route runs. Bodies a route streams (`skipBody`) are left to
 * the route. The routes read the body checked here from Hono's cache: `c.req.raw` is spent.
 */
export function rejectUnstorableText(app: OpenAPIHono, skipBody: (path: string) => boolean): MiddlewareHandler {
  const declared = declaredPaths(app);
  return async (c, next) => {
    const url = new URL(c.req.url);
    const errors: FieldError[] = [];
    const segments = url.pathname.split('/');
    const params = declared(url.pathname)?.params;
    segments.forEach((segment, i) => {
      const message = unstorableText(decode(segment));
      if (message) errors.push({ path: params?.[i] ?? '(path)', message });
    });
    for (const [name, values] of Object.entries(c.req.queries())) {
      const nameProblem = unstorableText(name);
      if (nameProblem) errors.push({ path: printable(name), message: `the parameter's name ${nameProblem}` });
      else for (const value of values) {
        const message = unstorableText(value);
        if (message) errors.push({ path: name, message });
      }
    }
    if (errors.length === 0 && !skipBody(url.pathname)) errors.push(...(await bodyErrors(c)));
    if (errors.length > 0) {
      throw new ValidationError(`The request is invalid: ${errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`, errors);
    }
    await next();
  };
}

async function bodyErrors(c: Context): Promise<FieldError[]> {
  const mediaType = c.req.header('content-type')?.split(';')[0]?.trim().toLowerCase() ?? '';
  if (!JSON_TYPE.test(mediaType) || c.req.method === 'GET' || c.req.method === 'HEAD') return [];
  const text = await c.req.text();
  if (!mayHoldUnstorable(text)) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return []; // the route's validator answers malformed JSON
  }
  return unstorableStrings(parsed);
}
