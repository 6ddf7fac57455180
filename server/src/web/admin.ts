// /api/v1/admin: users, DKIM keys and the audit log. Admins only.
import express, { type Request, type Response, Router } from "express";
import { z } from "zod";
import { defaultSelector, generateDkimKey, type DkimKeys } from "../delivery/dkim.js";
import { parsePolicyText, PolicyError, type PolicyService } from "../policy/service.js";
import type { Store, UserRecord } from "../store/types.js";
import { createUser, setPassword, UserInputError } from "../users.js";
import { currentTokenId, currentUser, requireRole } from "./auth.js";
import { ApiError } from "./errors.js";

const userChange = z.strictObject({
  role: z.enum(["user", "approver", "admin"]).optional(),
  language: z.enum(["ja", "en"]).nullable().optional(),
  holdMinutes: z.number().min(0).max(10080).nullable().optional(),
  aliases: z.array(z.string().email()).max(50).optional(),
  groups: z
    .array(z.string().regex(/^[\p{L}\p{N}._-]{1,64}$/u, "use letters, digits, . _ -"))
    .max(50)
    .optional(),
  manager: z.string().email().nullable().optional(),
});

function publicUser(u: UserRecord) {
  return {
    id: u.id,
    email: u.email,
    role: u.role,
    language: u.language,
    holdMinutes: u.holdMinutes,
    aliases: u.aliases,
    groups: u.groups,
    manager: u.manager,
    disabledAt: u.disabledAt === null ? null : new Date(u.disabledAt).toISOString(),
  };
}

function invalid(error: z.ZodError): ApiError {
  const issue = error.issues[0];
  return new ApiError(400, "bad_request", {
    detail: issue ? `${issue.path.join(".") || "(body)"}: ${issue.message}` : "invalid",
  });
}

export function adminRouter(store: Store, policies: PolicyService, dkim: DkimKeys): Router {
  const router = Router();

  async function targetUser(req: Request): Promise<UserRecord> {
    const id = Number(req.params.id);
    const user = Number.isInteger(id) ? await store.userById(id) : undefined;
    if (!user) throw new ApiError(404, "not_found");
    return user;
  }

  router.use(requireRole("admin"), express.json({ limit: "16kb" }));

  // Each with valid: true, or valid: false with its errors and what is in force instead.
  router.get("/policies", async (_req, res) => {
    res.json({ policies: await policies.list() });
  });

  router.get("/policies/effective", async (req, res) => {
    const email = typeof req.query.user === "string" ? req.query.user : "";
    const user = email ? await store.userByEmail(email) : undefined;
    if (email && !user) throw new ApiError(404, "not_found");
    res.json(await policies.effectiveFor(user ?? null, email));
  });

  // YAML or JSON text, so an admin can PUT the file they keep under version control.
  const policyBody = express.text({
    type: ["application/yaml", "application/x-yaml", "text/yaml", "text/plain"],
    limit: "1mb",
  });
  router.put("/policies/:scope", express.json({ limit: "1mb" }), policyBody, async (req, res) => {
    const scope = String(req.params.scope);
    try {
      const input = typeof req.body === "string" ? parsePolicyText(req.body) : (req.body as unknown);
      const document = await policies.set(scope, input, currentUser(res).email);
      res.json({ scope, document });
    } catch (err) {
      if (!(err instanceof PolicyError)) throw err;
      throw new ApiError(
        400,
        "invalid_policy",
        { detail: err.errors.join("; ") },
        {},
        { errors: err.errors },
      );
    }
  });

  router.delete("/policies/:scope", async (req, res) => {
    if (!(await policies.remove(String(req.params.scope), currentUser(res).email)))
      throw new ApiError(404, "not_found");
    res.status(204).end();
  });

  router.get("/users", async (_req, res) => {
    res.json({ users: (await store.listUsers()).map(publicUser) });
  });

  router.post("/users", async (req, res) => {
    // Without a JSON Content-Type no parser runs and Express 5 leaves the body undefined.
    const body = (req.body ?? {}) as {
      email?: unknown;
      role?: unknown;
      password?: unknown;
      language?: unknown;
      groups?: unknown;
      manager?: unknown;
    };
    try {
      const { user, password } = await createUser(store, {
        email: String(body.email ?? ""),
        role: body.role === undefined ? "user" : String(body.role),
        password: typeof body.password === "string" ? body.password : undefined,
        language: typeof body.language === "string" ? body.language : undefined,
        groups: Array.isArray(body.groups) ? body.groups.map(String) : undefined,
        manager: typeof body.manager === "string" ? body.manager : undefined,
      });
      await store.audit([
        {
          actor: currentUser(res).email,
          action: "user_added",
          detail: { email: user.email, role: user.role },
        },
      ]);
      res.status(201).json({ user: publicUser(user), ...(body.password === undefined ? { password } : {}) });
    } catch (err) {
      if (err instanceof UserInputError)
        throw new ApiError(err.conflict ? 409 : 400, "bad_request", { detail: err.message });
      throw err;
    }
  });

  router.patch("/users/:id", async (req, res) => {
    const parsed = userChange.safeParse(req.body);
    if (!parsed.success) throw invalid(parsed.error);
    const user = await targetUser(req);
    const id = user.id;
    await store.updateUser(id, parsed.data);
    await store.audit([
      {
        actor: currentUser(res).email,
        action: "user_changed",
        detail: { email: user.email, ...parsed.data },
      },
    ]);
    res.json({ user: publicUser((await store.userById(id)) ?? user) });
  });

  /** The user of `:id` that the calling admin may disable or delete: not themselves (lockout). */
  async function otherUser(req: Request, res: Response): Promise<UserRecord> {
    const user = await targetUser(req);
    if (user.id === currentUser(res).id) throw new ApiError(409, "own_account");
    return user;
  }

  for (const action of ["disable", "enable"] as const) {
    router.post(`/users/:id/${action}`, async (req, res) => {
      const user = await otherUser(req, res);
      await store.setUserDisabled(user.id, action === "disable", {
        actor: currentUser(res).email,
        action: action === "disable" ? "user_disabled" : "user_enabled",
        detail: { email: user.email },
      });
      res.json({ user: publicUser((await store.userById(user.id)) ?? user) });
    });
  }

  router.delete("/users/:id", async (req, res) => {
    const user = await otherUser(req, res);
    await store.deleteUser(user.id, {
      actor: currentUser(res).email,
      action: "user_deleted",
      detail: { email: user.email, role: user.role },
    });
    res.status(204).end();
  });

  // Without a password in the body one is generated and returned once, as for POST /users.
  router.post("/users/:id/password", async (req, res) => {
    const parsed = z.strictObject({ password: z.string().optional() }).safeParse(req.body ?? {});
    if (!parsed.success) throw invalid(parsed.error);
    const user = await targetUser(req);
    const given = parsed.data.password;
    try {
      const self = user.id === currentUser(res).id;
      const password = await setPassword(
        store,
        user,
        given,
        currentUser(res).email,
        self ? currentTokenId(res) : null,
      );
      res.json({ user: publicUser(user), ...(given === undefined ? { password } : {}) });
    } catch (err) {
      if (err instanceof UserInputError) throw new ApiError(400, "bad_request", { detail: err.message });
      throw err;
    }
  });

  router.delete("/users/:id/tokens", async (req, res) => {
    const user = await targetUser(req);
    const revoked = await store.revokeTokens(user.id, null, {
      actor: currentUser(res).email,
      action: "tokens_revoked",
      detail: { email: user.email },
    });
    res.json({ revoked });
  });

  router.post("/dkim", async (req, res) => {
    const parsed = z
      .strictObject({
        domain: z.string().regex(/^[a-z0-9.-]+\.[a-z]{2,}$/i, "expected a domain"),
        selector: z
          .string()
          .regex(/^[a-z0-9-]{1,63}$/i)
          .optional(),
      })
      .safeParse(req.body);
    if (!parsed.success) throw invalid(parsed.error);
    const selector = parsed.data.selector ?? defaultSelector();
    const key = await generateDkimKey(store, parsed.data.domain, selector);
    dkim.forget(parsed.data.domain);
    await store.audit([
      {
        actor: currentUser(res).email,
        action: "dkim_keygen",
        detail: { domain: parsed.data.domain, selector },
      },
    ]);
    res.status(201).json(key);
  });

  router.get("/audit", async (req, res) => {
    const limit = Math.min(1000, Math.max(1, Number(req.query.limit ?? 100) || 100));
    const messageId = typeof req.query.messageId === "string" ? req.query.messageId : undefined;
    res.json({ entries: await store.listAudit({ ...(messageId ? { messageId } : {}), limit }) });
  });
  return router;
}
