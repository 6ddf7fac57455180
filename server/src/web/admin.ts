// /api/v1/admin: users, DKIM keys and the audit log. Admins only.
import express, { Router } from "express";
import { z } from "zod";
import { generateDkimKey } from "../delivery/dkim.js";
import type { Store } from "../store/types.js";
import { createUser, UserInputError } from "../users.js";
import { currentUser, requireRole } from "./auth.js";
import { ApiError } from "./errors.js";

const userChange = z.strictObject({
  role: z.enum(["user", "approver", "admin"]).optional(),
  language: z.enum(["ja", "en"]).nullable().optional(),
  holdMinutes: z.number().min(0).max(10080).nullable().optional(),
  aliases: z.array(z.string().email()).max(50).optional(),
});

function publicUser(u: {
  id: number;
  email: string;
  role: string;
  language: string | null;
  holdMinutes: number | null;
  aliases: string[];
}) {
  return {
    id: u.id,
    email: u.email,
    role: u.role,
    language: u.language,
    holdMinutes: u.holdMinutes,
    aliases: u.aliases,
  };
}

function invalid(error: z.ZodError): ApiError {
  const issue = error.issues[0];
  return new ApiError(400, "bad_request", {
    detail: issue ? `${issue.path.join(".") || "(body)"}: ${issue.message}` : "invalid",
  });
}

export function adminRouter(store: Store): Router {
  const router = Router();
  router.use(requireRole("admin"), express.json({ limit: "16kb" }));

  router.get("/users", async (_req, res) => {
    res.json({ users: (await store.listUsers()).map(publicUser) });
  });

  router.post("/users", async (req, res) => {
    const body = req.body as { email?: unknown; role?: unknown; password?: unknown; language?: unknown };
    try {
      const { user, password } = await createUser(store, {
        email: String(body.email ?? ""),
        role: body.role === undefined ? "user" : String(body.role),
        password: typeof body.password === "string" ? body.password : undefined,
        language: typeof body.language === "string" ? body.language : undefined,
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
    const id = Number(req.params.id);
    const user = Number.isInteger(id) ? await store.userById(id) : undefined;
    if (!user) throw new ApiError(404, "not_found");
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

/** "sg202611": a selector per month, so a rotated key never reuses a published name. */
export function defaultSelector(now = new Date()): string {
  return `sg${now.getUTCFullYear()}${String(now.getUTCMonth() + 1).padStart(2, "0")}`;
}
