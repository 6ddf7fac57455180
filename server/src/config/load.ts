// Reads the config file (JSON or YAML), applies environment overrides and validates the result.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import type { z } from "zod";
import { configSchema, type Config } from "./schema.js";

export class ConfigError extends Error {}

const envOverrides: { name: string; path: string[]; number?: boolean }[] = [
  { name: "SENDGUARD_DATA_DIR", path: ["dataDir"] },
  { name: "SENDGUARD_HTTP_PORT", path: ["http", "port"], number: true },
  { name: "SENDGUARD_HTTPS_PORT", path: ["http", "httpsPort"], number: true },
  { name: "SENDGUARD_SMTP_PORT", path: ["smtp", "port"], number: true },
  { name: "SENDGUARD_RELAY_URL", path: ["relay", "url"] },
  { name: "SENDGUARD_PUBLIC_URL", path: ["publicUrl"] },
];

function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (next === undefined) node[key] = {};
    // A section of the wrong type stays as it is, so validation reports the file's mistake.
    else if (typeof next !== "object" || next === null || Array.isArray(next)) return;
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1] as string] = value;
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const where = issue.path.length ? issue.path.join(".") : "(top level)";
  if (issue.code === "unrecognized_keys") {
    return `${where}: unknown key${issue.keys.length > 1 ? "s" : ""} ${issue.keys.join(", ")} (check the spelling; see docs/configuration.md)`;
  }
  return `${where}: ${issue.message}`;
}

/** Parses an already-read document; throws ConfigError listing every problem with its key. */
export function parseConfig(raw: unknown, source: string, env: NodeJS.ProcessEnv = {}): Config {
  if (raw === null || raw === undefined) raw = {};
  if (typeof raw !== "object" || Array.isArray(raw)) {
    throw new ConfigError(`${source}: expected a mapping of keys (JSON object or YAML map) at the top level`);
  }
  const doc = structuredClone(raw) as Record<string, unknown>;
  const fromEnv = new Map<string, string>();
  for (const { name, path, number } of envOverrides) {
    const value = env[name];
    if (value === undefined || value === "") continue;
    if (number && !/^\d+$/.test(value)) {
      throw new ConfigError(`${name}: expected a port number, got "${value}"`);
    }
    setPath(doc, path, number ? Number(value) : value);
    fromEnv.set(path.join("."), name);
  }
  const result = configSchema.safeParse(doc);
  if (!result.success) {
    const lines = result.error.issues.map((i) => {
      const variable = fromEnv.get(i.path.join("."));
      return `  - ${describeIssue(i)}${variable ? ` (the value comes from ${variable})` : ""}`;
    });
    throw new ConfigError(`invalid configuration in ${source}:\n${lines.join("\n")}`);
  }
  return result.data;
}

/** Loads FILE (or SENDGUARD_CONFIG, or nothing: all defaults) and validates it. */
export function loadConfig(file: string | undefined, env: NodeJS.ProcessEnv = process.env): Config {
  const path = file ?? env.SENDGUARD_CONFIG;
  if (!path) return parseConfig({}, "defaults", env);
  let text: string;
  try {
    text = readFileSync(resolve(path), "utf8");
  } catch (err) {
    throw new ConfigError(`cannot read config file ${path}: ${(err as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = /\.json$/i.test(path) ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new ConfigError(
      `${path} is not valid ${/\.json$/i.test(path) ? "JSON" : "YAML"}: ${(err as Error).message}`,
    );
  }
  return parseConfig(raw, path, env);
}
