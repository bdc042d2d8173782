// The HTTP suite's results (bench/results/<file>.json, written by
// `npm run bench -- --suites http ...`) as the Markdown tables of
// bench/README.md, so the tables there are printed, never typed.
//   node bench/http_markdown.ts [bench/results/latest.json]
import { readFileSync } from 'node:fs';
import { type HttpReport, readLabel } from './http.ts';

const file = process.argv[2] ?? 'bench/results/latest.json';
const report = (JSON.parse(readFileSync(file, 'utf8')) as { http?: HttpReport }).http;
if (!report) throw new Error(`${file} has no http suite results`);

const f = (n: number, digits = 2) => n.toFixed(digits);

for (const db of [...new Set(report.cells.map((c) => c.db))]) {
  for (const runs of [...new Set(report.cells.filter((c) => c.db === db).map((c) => c.runs))]) {
    console.log(`\n**${db === 'postgres' ? 'PostgreSQL' : 'PGlite'}, ${runs.toLocaleString('en-US')} runs**\n`);
    console.log('| request | clients | HTTP req/s | direct+envelope req/s | throughput HTTP ÷ direct | p50 HTTP ÷ direct | p99 HTTP ÷ direct | p50 HTTP / direct (ms) | envelope ÷ bare p50 (added) |');
    console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const c of report.cells.filter((x) => x.db === db && x.runs === runs)) {
      const envelope = c.envelope_ratio ? `${f(c.envelope_ratio.p50)}× (${c.envelope_ratio.p50_added_ms >= 0 ? '+' : ''}${f(c.envelope_ratio.p50_added_ms)} ms)` : '–';
      console.log(`| \`${readLabel(c.name)}\` | ${c.clients} | ${f(c.http.rps, 0)} | ${f(c.envelope.rps, 0)} | **${f(c.ratio.rps)}** | **${f(c.ratio.p50)}** | ` +
        `${f(c.ratio.p99)} | ${f(c.http.p50_ms)} / ${f(c.envelope.p50_ms)} | ${envelope} |`);
    }
    const floor = report.floor.filter((x) => x.db === db);
    if (floor.length > 0 && report.cells.some((c) => c.db === db && c.runs === runs && c.name.startsWith('POST'))) {
      console.log(`\nfloor (trivial Hono route over a socket): ${floor.map((x) =>
        `${x.clients} clients ${f(x.figures.rps, 0)} req/s, p50 ${f(x.figures.p50_ms)} ms`).join('; ')}`);
    }
    const inProcess = report.cells.filter((c) => c.db === db && c.runs === runs && c.in_process);
    if (inProcess.length > 0) {
      console.log(`\nin-process gateway.fetch (no socket), 1 client, p50 ÷ direct+envelope p50: ${inProcess.map((c) =>
        `\`${readLabel(c.name)}\` ${f(c.in_process!.p50_ms / c.envelope.p50_ms)}× (socket: ${f(c.ratio.p50)}×)`).join('; ')}`);
    }
  }
}

if (report.growth.length > 0) {
  const sizes = report.growth[0]!;
  console.log(`\n| database | request | clients | p50 ${sizes.to} ÷ ${sizes.from}, HTTP | p50, direct+envelope | req/s ${sizes.from} ÷ ${sizes.to}, HTTP | req/s, direct |`);
  console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: |');
  const key = (g: HttpReport['growth'][number]) => `${g.db}|${g.name}|${g.clients}`;
  for (const k of [...new Set(report.growth.map(key))]) {
    const http = report.growth.find((g) => key(g) === k && g.side === 'http')!;
    const direct = report.growth.find((g) => key(g) === k && g.side === 'envelope')!;
    console.log(`| ${http.db === 'postgres' ? 'PostgreSQL' : 'PGlite'} | \`${readLabel(http.name)}\` | ${http.clients} | **${f(http.p50)}** | **${f(direct.p50)}** | ${f(http.rps)} | ${f(direct.rps)} |`);
  }
}
