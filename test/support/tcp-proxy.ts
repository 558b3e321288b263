import { createServer, type Socket, connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll } from 'vitest';

export interface TcpProxy {
  /** `host:port` to connect to instead of the target */
  address: string;
  /** a network partition: every connection through the proxy is dropped, and new ones are refused */
  cut(): void;
  /** the server goes away, as a stopped one does: open connections dropped, new ones refused (nothing listens) */
  stop(): Promise<void>;
  /** the server is back on the same address */
  start(): Promise<void>;
}

/** A TCP proxy to `target` (`host:port`) that a test can cut, to part a process from a server it talks to. */
export async function startTcpProxy(target: string): Promise<TcpProxy> {
  const [host, port] = [target.slice(0, target.lastIndexOf(':')), Number(target.slice(target.lastIndexOf(':') + 1))];
  const sockets = new Set<Socket>();
  let cut = false;
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  };
  const server = createServer((client) => {
    if (cut) return client.destroy();
    const upstream = connect(port, host);
    track(client);
    track(upstream);
    client.pipe(upstream).pipe(client);
  });
  const listen = (port: number) => new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const close = () => new Promise<void>((resolve) => (server.listening ? server.close(() => resolve()) : resolve()));
  await listen(0);
  const ownPort = (server.address() as AddressInfo).port;
  afterAll(close);
  const dropAll = () => {
    for (const socket of sockets) socket.destroy();
  };
  return {
    address: `127.0.0.1:${ownPort}`,
    cut: () => {
      cut = true;
      dropAll();
    },
    stop: async () => {
      const closed = close();
      dropAll();
      await closed;
    },
    start: () => listen(ownPort),
  };
}
