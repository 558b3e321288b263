import { createServer, type Socket, connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll } from 'vitest';

export interface TcpProxy {
  /** `host:port` to connect to instead of the target */
  address: string;
  /** a network partition: every connection through the proxy is dropped, and new ones are refused */
  cut(): void;
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
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    cut: () => {
      cut = true;
      for (const socket of sockets) socket.destroy();
    },
  };
}
