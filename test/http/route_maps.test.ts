// Each function's README carries its route map (route -> SQL function -> rule
// -> tests), written from the code by `npm run docs:routes`: stale is a failure.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { servedOpenApiDocuments } from '../../scripts/lib/client_types.ts';
import { readBlock } from '../../scripts/lib/doc_blocks.ts';
import { renderRouteMap } from '../../scripts/lib/route_map.ts';

describe('route maps in functions/<name>/README.md', async () => {
  const documents = await servedOpenApiDocuments();

  for (const [name, document] of documents) {
    it(`${name}: the README's map is what the code says (npm run docs:routes)`, () => {
      const readme = readFileSync(new URL(`../../functions/${name}/README.md`, import.meta.url), 'utf8');
      expect(readBlock(readme, 'routes')).toBe(renderRouteMap(name, document as never));
    });

    it(`${name}: every route reaches a SQL function and a test`, () => {
      const rows = renderRouteMap(name, document as never).split('\n').slice(2);
      expect(rows.length).toBeGreaterThan(0);
      for (const row of rows) {
        const [route, , sql, , tests] = row.replace(/^\| | \|$/g, '').split(' | ');
        expect(sql, `${route}: no SQL function found in its handler`).not.toMatch(/^none/);
        expect(tests, `${route}: no test calls it`).not.toBe('—');
      }
    });
  }
});
