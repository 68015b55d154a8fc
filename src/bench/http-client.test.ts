import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { KeepAliveConnection } from './http-client.js';

type Handler = (req: http.IncomingMessage, body: Buffer, res: http.ServerResponse) => void;

/** A real node:http server on loopback that counts connections and hands each request's body to `handler`. */
async function serve(handler: Handler) {
  let connections = 0;
  const server = http.createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => handler(req, Buffer.concat(parts), res));
  });
  server.on('connection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return { port: (server.address() as AddressInfo).port, connections: () => connections };
}

const servers: http.Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

describe('load generator HTTP client', () => {
  it('sends the body and headers as given and reuses one keep-alive connection', async () => {
    const seen: { url?: string; encoding?: string; body: string }[] = [];
    const srv = await serve((req, body, res) => {
      seen.push({ url: req.url, encoding: req.headers['content-encoding'], body: body.toString() });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"id":"abc"}');
    });
    const conn = new KeepAliveConnection(srv.port);
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push(await conn.post(`/api/1/envelope/?n=${i}`, 'content-encoding: gzip\r\n', Buffer.from(`body ${i}`)));
    conn.close();
    expect(statuses).toEqual([200, 200, 200]);
    expect(seen).toEqual([0, 1, 2].map((i) => ({ url: `/api/1/envelope/?n=${i}`, encoding: 'gzip', body: `body ${i}` })));
    expect(srv.connections()).toBe(1);
    expect(conn.connects).toBe(1);
  });

  it('reads chunked responses to their end, trailers included', async () => {
    let n = 0;
    const srv = await serve((_req, _body, res) => {
      res.writeHead(n++ === 0 ? 201 : 202, { 'transfer-encoding': 'chunked', trailer: 'x-done' });
      res.write('first part, ');
      res.write('x'.repeat(70_000));
      res.addTrailers({ 'x-done': 'yes' });
      res.end();
    });
    const conn = new KeepAliveConnection(srv.port);
    expect(await conn.post('/', '', Buffer.from('a'))).toBe(201);
    expect(await conn.post('/', '', Buffer.from('b'))).toBe(202);
    conn.close();
    expect(srv.connections()).toBe(1);
  });

  it('gives the status of a refusal and opens a new connection after `connection: close`', async () => {
    let n = 0;
    const srv = await serve((_req, _body, res) => {
      if (n++ === 0) {
        res.writeHead(429, { 'retry-after': '60', connection: 'close', 'content-length': '2' });
        res.end('no');
      } else {
        res.writeHead(200, { 'content-length': '2' });
        res.end('ok');
      }
    });
    const conn = new KeepAliveConnection(srv.port);
    expect(await conn.post('/', '', Buffer.from('a'))).toBe(429);
    expect(await conn.post('/', '', Buffer.from('b'))).toBe(200);
    conn.close();
    expect(conn.connects).toBe(2);
  });

  it('fails a request whose connection drops, and recovers on the next one', async () => {
    let n = 0;
    const srv = await serve((req, _body, res) => {
      if (n++ === 0) req.socket.destroy();
      else res.end('{}');
    });
    const conn = new KeepAliveConnection(srv.port);
    await expect(conn.post('/', '', Buffer.from('a'))).rejects.toThrow(/closed before the response/);
    expect(await conn.post('/', '', Buffer.from('b'))).toBe(200);
    conn.close();
  });

  it('fails when nothing listens', async () => {
    const srv = await serve(() => undefined);
    const port = srv.port;
    servers[0].close();
    servers.length = 0;
    const conn = new KeepAliveConnection(port);
    await expect(conn.post('/', '', Buffer.from('a'))).rejects.toThrow(/ECONNREFUSED/);
  });
});
