// The gateway's HTTP API (/api/v1) as the add-ins use it: the client policy, the user's held
// messages, undo / send now, and handing over a message in api mode. Every call carries the
// user's bearer token and gives up after a timeout; failures become a GatewayError whose message
// the UI can show.
import type {
  ActionResponse,
  ApiError,
  ClientPolicy,
  JsonMessage,
  MessageSummary,
  MessageView,
  SubmitResponse,
} from "@sendguard/shared";

/**
 * Where the gateway is and the user's token, read at every request: each host keeps them its own
 * way (Thunderbird in browser.storage, Outlook in roamingSettings) and hands over an object that
 * answers these two.
 */
export interface GatewaySettings {
  readonly gatewayUrl: string;
  readonly token: string;
}

/** Options of GatewayClient; defaults in brackets. */
export interface GatewayClientOptions {
  /** Milliseconds before a request is abandoned [5000]; an upload of a large message gets more. */
  timeoutMs?: number;
  fetchImpl?: typeof fetch;
}

export class GatewayError extends Error {
  constructor(
    /** The API's stable error code, or "unreachable" / "not_signed_in" / "bad_response". */
    readonly code: string,
    message: string,
    readonly status: number | null = null,
  ) {
    super(message);
    this.name = "GatewayError";
  }
}

export class GatewayClient {
  private readonly timeoutMs: number;
  private readonly fetchImpl: typeof fetch;

  constructor(
    private readonly settings: GatewaySettings,
    options: GatewayClientOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.fetchImpl = options.fetchImpl ?? ((input, init) => fetch(input, init));
  }

  get configured(): boolean {
    return this.settings.gatewayUrl !== "" && this.settings.token !== "";
  }

  policy(timeoutMs?: number): Promise<ClientPolicy> {
    return this.request<ClientPolicy>("GET", "/policy", undefined, timeoutMs);
  }

  /** The user's messages that can still be undone or are waiting for approval, soonest first. */
  async held(): Promise<MessageSummary[]> {
    const lists = await Promise.all(
      (["held", "pending_approval"] as const).map((status) =>
        this.request<{ messages: MessageSummary[] }>("GET", `/messages?status=${status}`),
      ),
    );
    return lists.flatMap((l) => l.messages).sort((a, b) => a.releaseAt.localeCompare(b.releaseAt));
  }

  /** The gateway's record of a message the user sent, or null when it has none (yet). */
  async byMessageId(messageId: string): Promise<MessageView | null> {
    const mid = encodeURIComponent(messageId.replace(/^<|>$/g, ""));
    try {
      return await this.request<MessageView>("GET", `/messages/by-message-id/${mid}`);
    } catch (err) {
      if (err instanceof GatewayError && err.status === 404) return null;
      throw err;
    }
  }

  discard(id: string): Promise<ActionResponse> {
    return this.request<ActionResponse>("POST", `/messages/${encodeURIComponent(id)}/discard`);
  }

  release(id: string): Promise<ActionResponse> {
    return this.request<ActionResponse>("POST", `/messages/${encodeURIComponent(id)}/release`);
  }

  /** POST /messages with the raw message (api hand-off). A rejection by a rule is a GatewayError. */
  submit(raw: Blob): Promise<SubmitResponse> {
    return this.upload(raw, "message/rfc822");
  }

  /** POST /messages with the message's parts as JSON (Outlook, whose compose mode has no MIME). */
  submitParts(message: JsonMessage): Promise<SubmitResponse> {
    return this.upload(new Blob([JSON.stringify(message)]), "application/json");
  }

  private upload(body: Blob, contentType: string): Promise<SubmitResponse> {
    // ~1 s per 2 MB on a slow link, and never less than the normal timeout.
    const timeoutMs = Math.max(this.timeoutMs, Math.ceil(body.size / 2000));
    return this.request<SubmitResponse>("POST", "/messages", body, timeoutMs, contentType);
  }

  private async request<T>(
    method: "GET" | "POST",
    path: string,
    body?: Blob,
    timeoutMs = this.timeoutMs,
    contentType?: string,
  ): Promise<T> {
    if (!this.configured) throw new GatewayError("not_signed_in", "no gateway URL or token");
    let res: Response;
    try {
      res = await this.fetchImpl(`${this.settings.gatewayUrl}/api/v1${path}`, {
        method,
        headers: {
          authorization: `Bearer ${this.settings.token}`,
          ...(contentType ? { "content-type": contentType } : {}),
        },
        ...(body ? { body } : {}),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      const reason =
        err instanceof Error && err.name === "TimeoutError" ? `no answer in ${timeoutMs} ms` : String(err);
      throw new GatewayError("unreachable", `${this.settings.gatewayUrl}: ${reason}`);
    }
    const json: unknown = await res.json().catch(() => null);
    if (res.ok && json !== null) return json as T;
    const error = (json as ApiError | null)?.error;
    throw new GatewayError(
      error?.code ?? "bad_response",
      error?.message ?? `HTTP ${res.status} from ${this.settings.gatewayUrl}`,
      res.status,
    );
  }
}
