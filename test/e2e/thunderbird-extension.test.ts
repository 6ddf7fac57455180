// The built Sendguard extension (.xpi) in a real headless Thunderbird, against the real gateway: on
// Send the extension holds the message, fetches the user's client policy from the gateway and opens
// its confirm window; the test answers in that window (tick, Send / Cancel / convert to Bcc) and
// checks what reaches the gateway and the relay target.
// The extension is configured as a user would through its settings: gateway URL and API token in
// storage.local (written from chrome context, see Thunderbird.setExtensionStorage).
// Skips when Thunderbird is not installed (scripts/install-test-deps.sh installs it); needs
// `npm run build` first (addin-thunderbird/dist/sendguard.xpi).
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { simpleParser, type AddressObject } from "mailparser";
import { TestGateway, waitFor } from "../helpers/gateway.js";
import { uniqueId } from "../helpers/fixtures.js";
import { SmtpSink } from "../helpers/sink.js";
import {
  SENDGUARD_ID,
  SENDGUARD_XPI,
  Thunderbird,
  extensionUnavailable,
  thunderbirdOnGateway,
} from "../helpers/thunderbird.js";

const SHOTS = process.env.SENDGUARD_SCREENSHOTS ?? "/tmp/sendguard-screenshots";
const ALICE = "alice@corp.example";
const ADMIN = "admin@corp.example";
const PW = "correct-horse-1";
const INTERNAL = "bob@corp.example";
const EXTERNAL = "partner@partner.example";
/** The confirm window's page: moz-extension://<uuid>/confirm.html?request=rN */
const POPUP = "/confirm.html?request=";
/** The toolbar button's popup. */
const HELD = "/held.html";

const skip = extensionUnavailable();

interface Summary {
  id: string;
  messageId: string;
  status: string;
  subject: string;
}

/** What the confirm window shows (read inside the page). */
interface PopupView {
  ready: boolean;
  text: string;
  boxes: { label: string; checked: boolean }[];
  sendDisabled: boolean | null;
  convertBcc: boolean;
}

const VIEW = `
  const send = document.querySelector("[data-testid=send]");
  return {
    ready: !!send,
    text: document.body.innerText,
    boxes: [...document.querySelectorAll("input[type=checkbox]")].map((i) => ({
      label: (document.querySelector('label[for="' + i.id + '"]') ?? i.parentElement).textContent.trim(),
      checked: i.checked,
    })),
    sendDisabled: send ? send.disabled : null,
    convertBcc: !!document.querySelector("[data-testid=convert-bcc]"),
  };
`;

/** Ticks every unticked checkbox whose label contains one of arguments[0] (a click, as React wants). */
const TICK = `
  const [parts] = arguments;
  for (const i of document.querySelectorAll("input[type=checkbox]")) {
    const label = (document.querySelector('label[for="' + i.id + '"]') ?? i.parentElement).textContent;
    if (!i.checked && parts.some((p) => label.includes(p))) i.click();
  }
  return true;
`;

function addresses(a: AddressObject | AddressObject[] | undefined): string[] {
  return (Array.isArray(a) ? a : a ? [a] : []).flatMap((o) => o.value.map((v) => v.address ?? ""));
}

describe("Sendguard extension in Thunderbird → gateway → relay", { skip }, () => {
  const sink = new SmtpSink();
  let gw: TestGateway;
  let tb: Thunderbird;
  let alice: string;
  let admin: string;
  let dir: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "sendguard-tbx-"));
    mkdirSync(SHOTS, { recursive: true });
    await sink.start();
    gw = new TestGateway({ relayPort: sink.port, config: { organization: { holdMinutes: 0.05 } } });
    gw.addUser(ALICE, PW);
    gw.addUser(ADMIN, PW, "--role", "admin");
    await gw.start();
    alice = await gw.token(ALICE, PW);
    // Alice's client policy: suggest "convert to Bcc" from 2 external To/Cc addresses (default 10).
    admin = await gw.token(ADMIN, PW);
    await alicePolicy({});

    tb = await thunderbirdOnGateway(gw, ALICE, PW, {
      fullName: "Alice Example",
      extensions: { [SENDGUARD_ID]: SENDGUARD_XPI },
      // Notifications in Thunderbird's own alert window, which the test can read and click.
      prefs: { "alerts.useSystemBackend": false },
    });
    await tb.setExtensionStorage(SENDGUARD_ID, { settings: { gatewayUrl: gw.httpUrl, token: alice } });
  });

  after(async () => {
    await tb?.stop();
    await gw?.stop();
    await sink.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Alice's policy: always "convert to Bcc" from 2 external To/Cc addresses (default 10), plus `extra`. */
  async function alicePolicy(extra: Record<string, unknown>): Promise<void> {
    const set = await gw.api(admin, "PUT", `/admin/policies/user:${ALICE}`, {
      client: { bccSuggestThreshold: 2 },
      ...extra,
    });
    assert.equal(set.status, 200, JSON.stringify(set.body));
  }

  /** Sends to EXTERNAL and confirms in the confirm window (ticking the address). */
  async function sendConfirmed(subject: string): Promise<string> {
    const send = await tb.startSend({ to: [EXTERNAL], subject, body: "Hello." });
    const popup = await openedPopup();
    await tb.execInPage(popup.url, TICK, [EXTERNAL]);
    await tb.clickInPage(popup.url, "[data-testid=send]");
    return send;
  }

  async function inGateway(subject: string): Promise<Summary | undefined> {
    const res = await gw.api<{ messages: Summary[] }>(alice, "GET", "/messages");
    return res.body.messages.find((m) => m.subject === subject);
  }

  /** Waits for the confirm window and for its dialog to render; returns its URL and first view. */
  async function openedPopup(): Promise<{ handle: string; url: string; view: PopupView }> {
    const { handle, url } = await tb.waitForWindow(POPUP, 15_000);
    assert.match(url, /^moz-extension:\/\/[0-9a-f-]+\/confirm\.html\?request=r\d+$/);
    const view = await waitFor(
      async () => {
        const v = await tb.execInPage<PopupView>(url, VIEW);
        return v.ready ? v : null;
      },
      10_000,
      "the confirm dialog to render",
    );
    return { handle, url, view };
  }

  /**
   * The header block as the gateway received it from Thunderbird (its stored copy). The relayed copy
   * cannot show X-Sendguard-Confirmed: the gateway strips every X-Sendguard-* header on the way out
   * (server/src/delivery/outgoing.ts).
   */
  async function receivedHeaders(id: string) {
    return (await simpleParser(await gw.storedMessage(id))).headers;
  }

  async function popupGone(url: string): Promise<void> {
    await waitFor(
      async () =>
        !(await tb.execInPage(url, "return true").then(
          () => true,
          () => false,
        )),
      10_000,
      "the confirm window to close",
    );
  }

  test("Send in the confirm window after ticking: confirmed at the gateway, held, then relayed", async () => {
    const subject = `Figures ${uniqueId("tbx")}`;
    const attachment = join(dir, "figures.csv");
    writeFileSync(attachment, "quarter,revenue\nQ1,100\n");

    const send = await tb.startSend({
      to: [EXTERNAL],
      cc: [INTERNAL],
      subject,
      body: "Hello,\n\nthe figures are attached.\n\nAlice",
      attachments: [attachment],
    });
    const popup = await openedPopup();
    const view = popup.view;
    assert.match(view.text, new RegExp(EXTERNAL.replace(/\./g, "\\.")));
    assert.match(view.text, /bob@corp\.example/);
    assert.deepEqual(
      view.boxes.map((b) => [b.label.includes(EXTERNAL) || b.label.includes("figures.csv"), b.checked]),
      [
        [true, false],
        [true, false],
      ],
      JSON.stringify(view.boxes),
    );
    assert.equal(view.sendDisabled, true, "Send is disabled until everything is ticked");
    assert.equal(view.convertBcc, false, "one external address: no Bcc suggestion");
    // Thunderbird waits for the extension: nothing is sent yet, the compose window stays open.
    const state = await tb.sendState(send);
    assert.deepEqual(
      { ...state, triggeredAt: null },
      {
        state: "sending",
        error: null,
        composeOpen: true,
        triggeredAt: null,
      },
    );
    assert.ok((state.triggeredAt ?? 0) <= Date.now());
    assert.equal(await inGateway(subject), undefined);

    await tb.execInPage(popup.url, TICK, [EXTERNAL]);
    assert.equal(
      (await tb.execInPage<PopupView>(popup.url, VIEW)).sendDisabled,
      true,
      "attachment not ticked yet",
    );
    await tb.execInPage(popup.url, TICK, ["figures.csv"]);
    const ticked = await tb.execInPage<PopupView>(popup.url, VIEW);
    assert.deepEqual(
      ticked.boxes.map((b) => b.checked),
      [true, true],
    );
    assert.equal(ticked.sendDisabled, false);
    // Fluent UI fades the button's colour in: shoot once the transition is over.
    await waitFor(
      () => tb.execInPage(popup.url, "return document.getAnimations().length === 0"),
      3000,
      "no animation",
    );
    writeFileSync(join(SHOTS, "thunderbird-extension-confirm.png"), await tb.screenshotWindow(popup.handle));

    await tb.clickInPage(popup.url, "[data-testid=send]");
    assert.deepEqual(await tb.waitForSend(send, 20_000), { sent: true, error: null }, tb.output.slice(-3000));
    await popupGone(popup.url);

    const held = await waitFor(() => inGateway(subject), 10_000, "the message in the API");
    assert.equal(held.status, "held");
    // "Held until 10:05 — Undo": the notification, and a click on it opens the held-messages list.
    const notice = await tb.waitForAlert(subject, { click: true });
    assert.match(notice.text, /Held before sending.*will be sent at \d\d:\d\d\. Click to undo\./);
    // With the icon: Thunderbird's alert window re-encodes it as PNG, which an SVG cannot be
    // ("NS_ERROR_FAILURE [imgITools.encodeImage]" in alert.js, and no icon).
    assert.match(notice.icon, /^data:image\/png;base64,./, "the notification shows its icon");
    assert.doesNotMatch(tb.output, /imgITools\.encodeImage/);
    await waitFor(
      () => tb.execInPage(HELD, "return true").catch(() => false),
      10_000,
      "the held-messages list opened by the notification",
    );
    // The colleague's copy keeps the attachment; the partner's has a download link instead.
    const got = await waitFor(
      () => sink.messages.find((m) => m.messageId === held.messageId && m.to.includes(INTERNAL)),
      15_000,
      "relay to the sink",
    );
    assert.deepEqual(got.to, [INTERNAL]);
    const externalCopy = await waitFor(
      () => sink.messages.find((m) => m.messageId === held.messageId && m.to.includes(EXTERNAL)),
      15_000,
      "the partner's copy",
    );
    assert.equal((await simpleParser(externalCopy.raw)).attachments.length, 0);
    const parsed = await simpleParser(got.raw);
    assert.equal(parsed.subject, subject);
    assert.equal(parsed.attachments[0]?.filename, "figures.csv");
    const received = await receivedHeaders(held.id);
    assert.match(received.get("x-sendguard-confirmed")?.toString() ?? "", /^confirmed; \d{4}-\d\d-\d\dT/);
    assert.equal(parsed.headers.has("x-sendguard-confirmed"), false, "internal header not relayed");
  });

  test("Cancel in the confirm window: nothing reaches the gateway, the compose window stays open", async () => {
    const subject = `Not this one ${uniqueId("tbx")}`;
    const send = await tb.startSend({ to: [EXTERNAL], subject, body: "Draft, do not send." });
    const popup = await openedPopup();
    assert.match(popup.view.text, /partner@partner\.example/);

    await tb.clickInPage(popup.url, "[data-testid=cancel]");
    const result = await tb.waitForSend(send, 10_000);
    assert.equal(result.sent, false);
    assert.match(result.error ?? "", /onBeforeSend/);
    await popupGone(popup.url);
    assert.equal((await tb.sendState(send)).composeOpen, true, "the compose window is still open");

    await new Promise((r) => setTimeout(r, 3000));
    assert.equal(await inGateway(subject), undefined, "nothing reached the gateway");
    assert.equal(
      sink.messages.some((m) => m.text.includes(subject)),
      false,
    );
    assert.equal(await tb.closeComposeWindows(), 1);
  });

  test("Convert to Bcc in the confirm window: no external address in To/Cc, every recipient gets it", async () => {
    const subject = `Invitation ${uniqueId("tbx")}`;
    const externals = ["a@client1.example", "b@client2.example", "c@client3.example"];
    const send = await tb.startSend({
      to: [INTERNAL, externals[0]!, externals[1]!],
      cc: [externals[2]!],
      subject,
      body: "You are invited.",
    });
    const popup = await openedPopup();
    assert.equal(popup.view.convertBcc, true, "3 external addresses ≥ threshold 2: Bcc suggested");

    await tb.clickInPage(popup.url, "[data-testid=convert-bcc]");
    const converted = await waitFor(
      async () => {
        const v = await tb.execInPage<PopupView>(popup.url, VIEW);
        return v.boxes.length > 0 && v.boxes.every((b) => b.label.startsWith("BCC:")) ? v : null;
      },
      5000,
      "external recipients shown in Bcc",
    );
    assert.equal(converted.boxes.length, 3, JSON.stringify(converted.boxes));
    assert.equal(converted.convertBcc, false, "nothing left to convert");
    await tb.execInPage(popup.url, TICK, externals);
    assert.equal((await tb.execInPage<PopupView>(popup.url, VIEW)).sendDisabled, false);
    await tb.clickInPage(popup.url, "[data-testid=send]");
    assert.deepEqual(await tb.waitForSend(send, 20_000), { sent: true, error: null }, tb.output.slice(-3000));

    const held = await waitFor(() => inGateway(subject), 10_000, "the message in the API");
    const all = [INTERNAL, ...externals].sort();
    const copies = await waitFor(
      () => {
        const c = sink.messages.filter((m) => m.messageId === held.messageId);
        return c.flatMap((m) => m.to).length >= all.length ? c : null;
      },
      15_000,
      "relay to every recipient",
    );
    assert.deepEqual(copies.flatMap((m) => m.to).sort(), all, "every recipient got it (envelope)");
    for (const copy of copies) {
      const parsed = await simpleParser(copy.raw);
      const visible = [...addresses(parsed.to), ...addresses(parsed.cc)];
      assert.deepEqual(visible, [INTERNAL], `To/Cc of the relayed copy: ${visible.join(", ")}`);
      assert.equal(parsed.headers.has("bcc"), false, "no Bcc header in the relayed copy");
    }
    const received = await receivedHeaders(held.id);
    assert.match(received.get("x-sendguard-confirmed")?.toString() ?? "", /^confirmed; /);
    assert.deepEqual(addresses(received.get("to") as AddressObject), [INTERNAL], "To as Thunderbird sent it");
    assert.equal(received.has("cc"), false, "no Cc as Thunderbird sent it");
  });

  test("a compose window wakes the suspended background, so Send does not have to", async () => {
    await tb.suspendBackground(SENDGUARD_ID);
    await tb.openCompose();
    try {
      await waitFor(
        async () => (await tb.backgroundState(SENDGUARD_ID)) === "running",
        10_000,
        "the background running again",
      );
    } finally {
      await tb.closeComposeWindows();
    }
  });

  test("Undo in the toolbar popup: the held message is discarded and never relayed", async () => {
    await alicePolicy({ hold: { internal: 10, semiInternal: 10, external: 10 } });
    try {
      const subject = `Wrong recipient ${uniqueId("tbx")}`;
      const send = await sendConfirmed(subject);
      assert.deepEqual(
        await tb.waitForSend(send, 20_000),
        { sent: true, error: null },
        tb.output.slice(-3000),
      );
      const held = await waitFor(() => inGateway(subject), 10_000, "the message in the API");
      assert.equal(held.status, "held");

      await tb.clickExtensionButton(SENDGUARD_ID);
      const row = `[data-testid=held-row][data-id="${held.id}"]`;
      const text = await waitFor(
        () =>
          tb
            .execInPage<string | null>(
              HELD,
              `return document.querySelector(arguments[0])?.innerText ?? null`,
              row,
            )
            .catch(() => null),
        15_000,
        "the held message in the toolbar popup",
      );
      assert.match(text, new RegExp(subject));
      assert.match(text, /Sends in (9|10):\d\d/);
      writeFileSync(join(SHOTS, "thunderbird-toolbar-popup.png"), await tb.screenshotPage(HELD));

      await tb.clickInPage(HELD, `${row} [data-testid=undo]`);
      await waitFor(
        async () => (await inGateway(subject))?.status === "discarded",
        10_000,
        "the message discarded at the gateway",
      );
      await waitFor(
        () => tb.execInPage<boolean>(HELD, "return !document.querySelector(arguments[0])", row),
        10_000,
        "the row gone from the popup",
      );
      await new Promise((r) => setTimeout(r, 2000));
      assert.equal(
        sink.messages.some((m) => m.messageId === held.messageId),
        false,
        "never relayed",
      );
    } finally {
      await alicePolicy({});
    }
  });

  test("api mode: Thunderbird does not send; the gateway holds the message and a copy is in Sent", async () => {
    await tb.setExtensionStorage(SENDGUARD_ID, {
      settings: { gatewayUrl: gw.httpUrl, token: alice, handoff: "api" },
    });
    try {
      const subject = `Handed over ${uniqueId("tbx")}`;
      const send = await sendConfirmed(subject);
      await waitFor(
        async () => !(await tb.sendState(send)).composeOpen,
        20_000,
        "the compose window to close after the hand-off",
      );
      const held = await waitFor(() => inGateway(subject), 10_000, "the message in the API");
      assert.equal(held.status, "held");
      const all = await gw.api<{ messages: Summary[] }>(alice, "GET", "/messages");
      assert.equal(
        all.body.messages.filter((m) => m.subject === subject).length,
        1,
        "handed over once, not also by SMTP",
      );

      const received = await receivedHeaders(held.id);
      assert.match(received.get("x-sendguard-confirmed")?.toString() ?? "", /^confirmed; /);
      assert.deepEqual(
        [...received.keys()].filter((k) => /^x-mozilla|^x-identity-key|^x-account-key|^fcc$/.test(k)),
        [],
        "Thunderbird's draft headers are not handed over",
      );
      assert.deepEqual(await tb.localFolderSubjects("Sent"), [subject]);
      assert.deepEqual(await tb.localFolderSubjects("Drafts"), [], "the draft is deleted");

      const got = await waitFor(
        () => sink.messages.find((m) => m.messageId === held.messageId),
        15_000,
        "relay to the sink",
      );
      assert.deepEqual(got.to, [EXTERNAL]);
      assert.equal((await simpleParser(got.raw)).subject, subject);
    } finally {
      await tb.setExtensionStorage(SENDGUARD_ID, { settings: { gatewayUrl: gw.httpUrl, token: alice } });
    }
  });
});
