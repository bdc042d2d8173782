// npm run example: the front-end example page (examples/browser) on
// http://127.0.0.1:3000 (PORT, HOST), calling the functions of npm start.
import { examplePage } from './lib/example_page.ts';
import { listen } from './lib/http_server.ts';

const host = process.env.HOST ?? '127.0.0.1';
const { port } = await listen(examplePage, { port: Number(process.env.PORT ?? 3000), hostname: host });
console.log(`example page at http://${host}:${port}/ (start the functions with npm start, paste the tokens it prints)`);
