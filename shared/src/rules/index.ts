export * from "./evaluate.js";
export * from "./patterns.js";
