// Closing the listeners within the shutdown's bound (config shutdownSeconds): no new connections,
// the work under way may finish until the deadline, and whatever is still open then is cut off.
// A client cut off before its reply has no acknowledgement and sends again: nothing is lost.
import type { Server } from "node:http";
import type { Server as HttpsServer } from "node:https";
import type { SMTPServer } from "smtp-server";

/** Resolves when `work` has, or at `deadline` (ms since the epoch): true if `work` was first. */
export async function before(deadline: number, work: Promise<unknown>): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), Math.max(0, deadline - Date.now()));
  });
  try {
    return await Promise.race([work.then(() => true as const), late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Stops an SMTP server: it accepts no connection; sessions between two messages are told 421 at
 * once, sessions in a transaction may finish it (the message is committed and acknowledged) until
 * the deadline, then they are told 421 too. Returns how many sessions were cut off at the deadline.
 */
export async function closeSmtp(server: SMTPServer, deadline: number): Promise<number> {
  // The library's own grace period would cut sessions off at 30 s, whatever the bound.
  server.options.closeTimeout = Math.max(0, deadline - Date.now()) + 60_000;
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  const goodbye = (idleOnly: boolean) => {
    let cut = 0;
    for (const connection of server.connections) {
      if (idleOnly && connection.session.envelope?.mailFrom) continue;
      connection.send(421, "4.3.2 Server shutting down; try again later");
      connection.close();
      cut++;
    }
    return cut;
  };
  goodbye(true);
  if (await before(deadline, closed)) return 0;
  return goodbye(false);
}

/**
 * Stops an HTTP server: no new connection, idle keep-alive ones are closed (Node does this in
 * close()), requests under way may finish until the deadline. Returns how many connections were
 * cut off at the deadline.
 */
export async function closeHttp(server: Server | HttpsServer, deadline: number): Promise<number> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  if (await before(deadline, closed)) return 0;
  const open = await new Promise<number>((resolve) =>
    server.getConnections((err, count) => resolve(err ? 0 : count)),
  );
  server.closeAllConnections();
  return open;
}
