// Which methods a function's routes answer at a path: a request with another
// method gets 405 naming them (Allow), not a 404 that suggests the path is wrong.
import type { Hono } from 'hono';

// deno-lint-ignore no-explicit-any
export function allowedMethods(app: Hono<any, any, any>, path: string): string[] {
  const methods = new Set<string>();
  for (const route of app.routes) {
    if (route.method === 'ALL' || route.path.includes('*')) continue;
    if (pattern(route.path).test(path)) methods.add(route.method);
  }
  return [...methods].sort();
}

const patterns = new Map<string, RegExp>();

function pattern(routePath: string): RegExp {
  let re = patterns.get(routePath);
  if (!re) {
    const source = routePath.split('/').map((segment) =>
      segment.startsWith(':') ? '[^/]+' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('/');
    re = new RegExp(`^${source}/?$`);
    patterns.set(routePath, re);
  }
  return re;
}
