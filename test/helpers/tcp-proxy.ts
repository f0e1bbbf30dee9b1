// A TCP proxy to put between a client and a server in the same machine, to cut the network between
// them on demand. cut() destroys every connection and refuses new ones (each is closed as it
// arrives); cut({ silent: true }) is a partition nothing reports: connections stay open but carry
// nothing, and new ones are accepted and never answered, so the client learns only by its own
// timeouts. restore() lets connections through again: after a silent cut the open ones carry on
// where they stopped (as TCP does when a link heals), the unanswered ones are closed. The port
// stays the proxy's throughout, so clients reconnect to it.
import * as net from "net";

export interface TcpProxy {
  port: number;
  /** `url` with its host and port replaced by the proxy's. */
  via(url: string): string;
  cut(options?: { silent?: boolean }): void;
  restore(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(targetPort: number, targetHost = "127.0.0.1"): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>();
  /** Each client connection and its upstream one. */
  const pairs = new Map<net.Socket, net.Socket>();
  const connect = (client: net.Socket, upstream: net.Socket) => {
    client.pipe(upstream);
    upstream.pipe(client);
    client.resume();
    upstream.resume();
  };
  let state: "open" | "refusing" | "silent" = "open";
  const track = (s: net.Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
    s.on("error", () => s.destroy());
  };
  const server = net.createServer((client) => {
    if (state === "refusing") {
      client.destroy();
      return;
    }
    track(client);
    if (state === "silent") {
      client.pause(); // accepted, never answered
      return;
    }
    const upstream = net.connect(targetPort, targetHost);
    track(upstream);
    pairs.set(client, upstream);
    connect(client, upstream);
    client.on("close", () => {
      pairs.delete(client);
      upstream.destroy();
    });
    upstream.on("close", () => client.destroy());
  });
  await new Promise<void>((resolve, reject) => server.listen(0, "127.0.0.1", resolve).on("error", reject));
  const port = (server.address() as net.AddressInfo).port;
  const destroyAll = () => {
    for (const s of sockets) s.destroy();
  };
  return {
    port,
    via(url: string): string {
      const u = new URL(url);
      u.hostname = "127.0.0.1";
      u.port = String(port);
      return u.toString();
    },
    cut(options = {}): void {
      if (!options.silent) {
        state = "refusing";
        destroyAll();
        return;
      }
      state = "silent";
      // Nothing moves either way: reads stop, so bytes sit unread as on a dead link.
      for (const s of sockets) {
        s.unpipe();
        s.pause();
      }
    },
    restore(): void {
      if (state === "silent") {
        for (const s of sockets) if (!pairs.has(s) && ![...pairs.values()].includes(s)) s.destroy();
        for (const [client, upstream] of pairs) connect(client, upstream);
      }
      state = "open";
    },
    async close(): Promise<void> {
      state = "refusing";
      destroyAll();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
