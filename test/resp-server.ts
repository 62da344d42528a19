/**
 * A server on 127.0.0.1 that speaks Redis's wire protocol (RESP) just enough for node-redis: it
 * records each command and answers it as `reply` says (`+OK` by default), or never, to play a
 * Redis that is slow. For the unit tests of src/redis.ts; a real Redis serves test/logto.
 */
import { once } from 'node:events';
import { type AddressInfo, createServer, type Socket } from 'node:net';

/** A command's answer in RESP, or `undefined` for none at all. */
export type Reply = (command: string[]) => string | undefined;

/** The complete commands at the start of `buffer`, and what is left of it. */
const parseCommands = (buffer: string) => {
  const commands: string[][] = [];
  let rest = buffer;
  for (;;) {
    const header = /^\*(\d+)\r\n/.exec(rest);
    if (!header) {
      return { commands, rest };
    }
    let at = header[0].length;
    const args: string[] = [];
    for (let index = 0; index < Number(header[1]); index += 1) {
      const length = /^\$(\d+)\r\n/.exec(rest.slice(at));
      if (!length || rest.length < at + length[0].length + Number(length[1]) + 2) {
        return { commands, rest };
      }
      at += length[0].length;
      args.push(rest.slice(at, at + Number(length[1])));
      at += Number(length[1]) + 2;
    }
    commands.push(args);
    rest = rest.slice(at);
  }
};

export const startRespServer = async (port = 0) => {
  const seen: string[][] = [];
  const sockets = new Set<Socket>();
  let connections = 0;
  let reply: Reply = () => '+OK\r\n';
  const server = createServer((socket) => {
    connections += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    let buffer = '';
    socket.on('data', (chunk) => {
      const { commands, rest } = parseCommands(buffer + chunk.toString('utf8'));
      buffer = rest;
      for (const command of commands) {
        seen.push(command);
        const answer = reply(command);
        if (answer !== undefined) {
          socket.write(answer);
        }
      }
    });
  });
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    seen,
    answerWith: (next: Reply) => {
      reply = next;
    },
    /** How many connections it has accepted. */
    connections: () => connections,
    /** Closes every connection, as Redis does with idle ones, and goes on listening. */
    dropConnections: () => {
      for (const socket of sockets) {
        socket.destroy();
      }
    },
    close: async () => {
      for (const socket of sockets) {
        socket.destroy();
      }
      server.close();
      await once(server, 'close');
    },
  };
};
