export * from "./evaluate.js";
export * from "./patterns.js";
export * from "./regex.js";
export * from "./recipients.js";
export * from "./attachment-rules.js";
