/**
 * Message validation lives with each message in its channel module (protocol/); this module
 * keeps the names existing imports use.
 */
export { validateHello, validateMessage } from "./protocol/messages.ts";
export { isWorkerInfo } from "./protocol/common.ts";
export { describe } from "./protocol/fields.ts";
