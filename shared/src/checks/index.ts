export * from "./confirm.js";
export * from "./fallback.js";
export * from "./policy-cache.js";
export { formatSize, ownText } from "./text.js";
export * from "./attachment-plan.js";
