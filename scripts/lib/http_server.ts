// The local server's HTTP listener (@hono/node-server), shared by npm start
// and the tests that need real sockets (a browser, keep-alive connections).
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';

export interface Listening {
  server: ServerType;
  /** The port it listens on (the one the OS chose when asked for port 0). */
  port: number;
  close(): Promise<void>;
}

export function listen(fetch: (request: Request) => Response | Promise<Response>, options: { port: number; hostname: string }): Promise<Listening> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch, port: options.port, hostname: options.hostname }, (info: AddressInfo) => resolve({
      server,
      port: info.port,
      close: () => new Promise<void>((done) => {
        server.close(() => done());
        // Idle keep-alive connections would hold close() open.
        if ('closeIdleConnections' in server) server.closeIdleConnections();
      }),
    }));
    server.once('error', reject);
  });
}
