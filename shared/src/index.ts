export * from "./api/types.js";
export * from "./classify/address.js";
export * from "./i18n/index.js";
export * from "./time/format.js";
