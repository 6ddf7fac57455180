export * from "./evaluate.js";
export * from "./patterns.js";
export * from "./regex.js";
