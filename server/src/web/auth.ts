// Who is calling: a bearer token (add-ins, scripts) or a session cookie (browser). State-changing
// requests with a session cookie must carry its CSRF token in X-CSRF-Token.
import { pickLanguage, type Language, type Role } from "@sendguard/shared";
import type { NextFunction, Request, RequestHandler, Response } from "express";
import type { AuthResult } from "../auth/passwords.js";
import type { Store, UserRecord } from "../store/types.js";
import { safeEqual, sha256 } from "../secrets.js";
import { ApiError } from "./errors.js";

export const SESSION_COOKIE = "sg_session";

export function cookie(req: Request, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return percentDecoded(part.slice(eq + 1).trim());
  }
  return undefined;
}

/** A value that is not valid percent-encoding ("%", "%zz") stays as sent: it then fails as a wrong token. */
function percentDecoded(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

export function currentUser(res: Response): UserRecord {
  const user = res.locals.user as UserRecord | undefined;
  if (!user) throw new ApiError(401, "unauthorized");
  return user;
}

/** Sets res.locals.lang for every request: the user's language, else Accept-Language, else the org's. */
export function language(fallback: Language): RequestHandler {
  return (req, res, next) => {
    res.locals.lang = pickLanguage(req.headers["accept-language"], fallback);
    next();
  };
}

export function authenticate(store: Store): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const header = req.headers.authorization;
    const bearer = header && /^Bearer\s+(\S+)$/i.exec(header)?.[1];
    const session = bearer ? undefined : cookie(req, SESSION_COOKIE);
    if (!bearer && !session) return next();
    store
      .tokenOwner(sha256((bearer || session) as string), bearer ? "api" : "session", Date.now())
      .then((owner) => {
        if (!owner) return next(new ApiError(401, "unauthorized"));
        res.locals.user = owner.user;
        res.locals.tokenId = owner.tokenId;
        if (owner.user.language) res.locals.lang = owner.user.language;
        const safe = req.method === "GET" || req.method === "HEAD" || req.method === "OPTIONS";
        if (session && !safe) {
          const sent = req.headers["x-csrf-token"];
          if (typeof sent !== "string" || !owner.csrf || !safeEqual(sent, owner.csrf)) {
            return next(new ApiError(403, "csrf"));
          }
        }
        next();
      })
      .catch(next);
  };
}

/** The HTTP answer to a refused password check. */
export function authRefusal(result: Extract<AuthResult, { ok: false }>): ApiError {
  switch (result.reason) {
    case "too_many_attempts":
      return new ApiError(
        429,
        "too_many_attempts",
        { seconds: result.retryAfter },
        { "Retry-After": String(result.retryAfter) },
      );
    case "busy":
      return new ApiError(503, "auth_busy", {}, { "Retry-After": "1" });
    case "disabled":
      return new ApiError(403, "account_disabled");
    case "bad_credentials":
      return new ApiError(401, "bad_credentials");
  }
}

/** The public id of the token or session the caller authenticated with. */
export function currentTokenId(res: Response): string {
  currentUser(res);
  return res.locals.tokenId as string;
}

export function requireUser(_req: Request, res: Response, next: NextFunction): void {
  currentUser(res);
  next();
}

export function requireRole(...roles: Role[]): RequestHandler {
  return (_req, res, next) => {
    if (!roles.includes(currentUser(res).role)) throw new ApiError(403, "forbidden");
    next();
  };
}
