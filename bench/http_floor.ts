// The floor of the HTTP stack (issue 16): a trivial Hono route answering a
// small constant JSON, served the way `npm start` serves the functions
// (scripts/lib/http_server.ts, @hono/node-server) over a real socket.
//   PORT=0 node bench/http_floor.ts   -> prints "floor listening on <port>"
import { Hono } from 'hono';
import { listen } from '../scripts/lib/http_server.ts';

const app = new Hono();
app.get('*', (c) => c.json({ ok: true, items: [] }));
const listening = await listen(app.fetch, { port: Number(process.env.PORT ?? 0), hostname: process.env.HOST ?? '127.0.0.1' });
console.log(`floor listening on ${listening.port}`);
process.on('SIGTERM', async () => {
  await listening.close();
  process.exit(0);
});
