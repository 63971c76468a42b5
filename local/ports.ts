// Port helpers of the local stack: everything listens on 127.0.0.1 only.
import type { Server } from "node:http";
import { createServer } from "node:net";

export const HOST = "127.0.0.1";

export class PortInUseError extends Error {
  override readonly name = "PortInUseError";
  constructor(
    readonly port: number,
    readonly what: string,
  ) {
    super(
      `port ${port} (${what}) is already in use on ${HOST}: stop what holds it or choose another port`,
    );
  }
}

/** Listen on HOST:port (0 = any free port) and resolve with the port bound. */
export function listen(server: Server, port: number, what: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      reject(err.code === "EADDRINUSE" ? new PortInUseError(port, what) : err);
    };
    server.once("error", onError);
    server.listen(port, HOST, () => {
      server.off("error", onError);
      const address = server.address();
      resolve(typeof address === "object" && address ? address.port : port);
    });
  });
}

/** `n` distinct ports free right now (held together while chosen, so never the same twice). */
export async function freePorts(n: number): Promise<number[]> {
  const servers = Array.from({ length: n }, () => createServer());
  try {
    return await Promise.all(
      servers.map(
        (s) =>
          new Promise<number>((resolve, reject) => {
            s.once("error", reject);
            s.listen(0, HOST, () => {
              const address = s.address();
              resolve(typeof address === "object" && address ? address.port : 0);
            });
          }),
      ),
    );
  } finally {
    await Promise.all(
      servers.map(
        (s) => new Promise<void>((resolve) => (s.listening ? s.close(() => resolve()) : resolve())),
      ),
    );
  }
}

/** A port that is free right now (for child processes that take a port number). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, HOST, () => {
      const address = s.address();
      const port = typeof address === "object" && address ? address.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections?.();
    server.close(() => resolve());
  });
}
