// Who may read /metrics: an admin's token, or a client without one in metrics.allowNetworks
// (default loopback only). Queue depths and rates tell an outsider more than they should.
import { isIPv6 } from "node:net";
import type { RequestHandler } from "express";
import type { Config } from "../config/schema.js";
import { trustedNetworks } from "../intake/smtp.js";
import type { UserRecord } from "../store/types.js";
import { ApiError } from "./errors.js";

export function metricsAccess(config: Config): RequestHandler {
  const allowed = trustedNetworks(config.metrics.allowNetworks);
  const isAllowed = (ip: string) => allowed.check(ip, isIPv6(ip) ? "ipv6" : "ipv4");
  return (req, res, next) => {
    const user = res.locals.user as UserRecord | undefined;
    // A token is judged as a credential, wherever it comes from: only an admin's opens the metrics.
    if (user) return next(user.role === "admin" ? undefined : new ApiError(403, "metrics_forbidden"));
    // Both the socket's peer and the client it speaks for must be allowed. With trust proxy
    // "loopback", req.ip is the X-Forwarded-For client of a proxy on this host: checking the socket
    // alone would open the metrics to everyone that proxy forwards, and only a loopback peer can
    // name a client, so nobody else can forge one.
    const peer = req.socket.remoteAddress ?? "";
    if (isAllowed(peer) && isAllowed(req.ip ?? peer)) return next();
    next(new ApiError(403, "metrics_forbidden"));
  };
}
