export { loadConfig, parseConfig, ConfigError } from "./config/load.js";
export type { Config } from "./config/schema.js";
export { startGateway, type Gateway } from "./gateway.js";
export { createLogger } from "./log.js";
export { main } from "./cli.js";
