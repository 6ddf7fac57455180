export * from "./api/types.js";
export * from "./classify/address.js";
export * from "./i18n/index.js";
export * from "./time/format.js";
export * from "./policy/index.js";
export * from "./rules/index.js";
export * from "./rules/pii.js";
export * from "./checks/index.js";
export { htmlToText } from "./text/html.js";
