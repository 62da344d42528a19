/**
 * An outbound HTTP proxy on 127.0.0.1 as companies run them, for tests: it answers CONNECT only,
 * records every tunnel asked for, opens those to Xiaomi's hosts on 443 (to the stand-in, which
 * holds their certificates) and refuses every other with 403. TLS passes through untouched.
 */
import { once } from 'node:events';
import { createServer } from 'node:http';
import { type AddressInfo, connect } from 'node:net';

export const startConnectProxy = async ({ xiaomiPort }: { xiaomiPort: number }) => {
  const tunnels = new Map([
    ['account.xiaomi.com:443', xiaomiPort],
    ['open.account.xiaomi.com:443', xiaomiPort],
  ]);
  /** Every CONNECT target asked for, in order. */
  const connects: string[] = [];
  let refusing = false;
  /** Tunnels still to refuse once each, by target. */
  const refusals = new Map<string, number>();
  const takeRefusal = (target: string) => {
    const left = refusals.get(target) ?? 0;
    refusals.set(target, Math.max(left - 1, 0));
    return left > 0;
  };
  const open = new Set<{ destroy: () => void }>();
  const closeTunnels = () => {
    for (const socket of open) {
      socket.destroy();
    }
  };

  const server = createServer((_request, response) => {
    response.writeHead(405, { allow: 'CONNECT' }).end();
  });
  server.on('connect', (request, client, head) => {
    const target = request.url ?? '';
    connects.push(target);
    const port = refusing || takeRefusal(target) ? undefined : tunnels.get(target);
    if (port === undefined) {
      client.end('HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n');
      return;
    }
    open.add(client);
    client.on('close', () => open.delete(client));
    const upstream = connect(port, '127.0.0.1', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client).pipe(upstream);
    });
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');

  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    connects,
    /** Refuses every tunnel from now on (or again opens Xiaomi's), cutting those still open. */
    refuseTunnels: (refuse: boolean) => {
      refusing = refuse;
      closeTunnels();
    },
    /** Refuses the next `count` tunnels to `target`, cutting those open so that one is needed. */
    refuseNextTunnels: (target: string, count: number) => {
      refusals.set(target, count);
      closeTunnels();
    },
    close: async () => {
      closeTunnels();
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
};

export type ConnectProxy = Awaited<ReturnType<typeof startConnectProxy>>;
