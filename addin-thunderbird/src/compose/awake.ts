// Injected into every compose window (manifest compose_scripts, Thunderbird 151 and later). While
// a message is being written it keeps the background running, which Thunderbird suspends after
// 30 s without events, and has it load the confirm dialog: Send then finds both ready instead of
// starting them (measured: bench/tb-confirm.ts).
import type { ComposingMessage } from "../background.js";

const composing: ComposingMessage = { type: "sendguard:composing" };
const tell = () => void browser.runtime.sendMessage(composing).catch(() => undefined);
tell();
setInterval(tell, 20_000);
