// Runs the built handler bundle (dist/launchevent.js) as classic Outlook on Windows does: alone, in
// a JavaScript-only context, here node's vm with the fake host as its Office global and nothing of
// a browser (no window, document, localStorage or import()).
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import vm from "node:vm";
import { fakeEvent, type Completed, type FakeHost } from "./fake-office.js";

export const DIST = join(dirname(fileURLToPath(import.meta.url)), "../dist");
export const BUNDLE = join(DIST, "launchevent.js");

/** What the JavaScript-only runtime offers besides Office; fetch only where a test wants the network. */
export const RUNTIME_GLOBALS = { setTimeout, clearTimeout, console };

/**
 * Loads the bundle into a new context (a new runtime: nothing kept from an earlier load) and
 * returns a way to fire the events it associated.
 */
export function loadBundle(host: FakeHost, globals: Record<string, unknown> = RUNTIME_GLOBALS) {
  const context = vm.createContext({ Office: host.office, ...globals });
  new vm.Script(readFileSync(BUNDLE, "utf8"), { filename: "launchevent.js" }).runInContext(context);
  return {
    context,
    /** Fires the associated function `name` and resolves with what it completed the event with. */
    fire: async (name: string): Promise<Completed> => {
      const handler = host.associated.get(name);
      if (!handler) throw new Error(`the bundle did not associate ${name}`);
      const { event, completed } = fakeEvent();
      handler(event);
      return completed;
    },
  };
}
