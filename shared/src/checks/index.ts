export * from "./confirm.js";
export * from "./fallback.js";
export { formatSize, ownText } from "./text.js";
export * from "./attachment-plan.js";
