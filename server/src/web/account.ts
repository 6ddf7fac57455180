// /api/v1/tokens and /api/v1/me: what signed-in users manage of their own account — their tokens
// and sessions (listed by public id, never by secret) and their password.
import type { TokenView } from "@sendguard/shared";
import express, { Router } from "express";
import { z } from "zod";
import type { PasswordChecker } from "../auth/passwords.js";
import type { Store, TokenRecord } from "../store/types.js";
import { setPassword, UserInputError } from "../users.js";
import { authRefusal, currentTokenId, currentUser, requireUser } from "./auth.js";
import { ApiError } from "./errors.js";

export interface AccountDeps {
  store: Store;
  passwords: PasswordChecker;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

function tokenView(token: TokenRecord, currentId: string): TokenView {
  return {
    id: token.id,
    kind: token.kind,
    createdAt: new Date(token.createdAt).toISOString(),
    lastUsedAt: iso(token.lastUsedAt),
    expiresAt: iso(token.expiresAt),
    current: token.id === currentId,
  };
}

const passwordChange = z.strictObject({
  currentPassword: z.string().max(1024),
  newPassword: z.string(),
});

export function accountRouter(deps: AccountDeps): Router {
  const { store, passwords } = deps;
  const router = Router();

  router.get("/tokens", requireUser, async (_req, res) => {
    const tokens = await store.listTokens(currentUser(res).id, Date.now());
    res.json({ tokens: tokens.map((t) => tokenView(t, currentTokenId(res))) });
  });

  // Another user's token id gets the same 404 as one that does not exist.
  router.delete("/tokens/:id", requireUser, async (req, res) => {
    const user = currentUser(res);
    const tokenId = String(req.params.id);
    const revoked = await store.revokeTokens(user.id, tokenId, {
      actor: user.email,
      action: "token_revoked",
      detail: { email: user.email, tokenId },
    });
    if (!revoked) throw new ApiError(404, "not_found");
    res.status(204).end();
  });

  // The current password is checked like a sign-in (same limits), so a stolen session cannot
  // guess it. Every other token and session of the user is revoked; the caller's own stays.
  router.post("/me/password", requireUser, express.json({ limit: "16kb" }), async (req, res) => {
    const parsed = passwordChange.safeParse(req.body ?? {});
    if (!parsed.success) {
      throw new ApiError(400, "bad_request", {
        detail: 'send JSON {"currentPassword": "…", "newPassword": "…"}',
      });
    }
    const user = currentUser(res);
    const check = await passwords.check(user.email, parsed.data.currentPassword, req.ip ?? "");
    if (!check.ok) {
      throw check.reason === "bad_credentials" ? new ApiError(403, "wrong_password") : authRefusal(check);
    }
    try {
      await setPassword(store, user, parsed.data.newPassword, user.email, currentTokenId(res));
    } catch (err) {
      if (err instanceof UserInputError) throw new ApiError(400, "bad_request", { detail: err.message });
      throw err;
    }
    res.status(204).end();
  });

  return router;
}
