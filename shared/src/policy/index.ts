export * from "./schema.js";
export * from "./effective.js";
