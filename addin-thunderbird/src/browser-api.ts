// The part of Thunderbird's WebExtension API the extension uses. Narrow on purpose: the real
// `browser` object satisfies it, and the unit tests pass a typed fake.
export interface ComposeDetailsLike {
  from?: string;
  to?: (string | { id: string; type: string })[] | string;
  cc?: (string | { id: string; type: string })[] | string;
  bcc?: (string | { id: string; type: string })[] | string;
  subject?: string;
  body?: string;
  plainTextBody?: string;
  isPlainText?: boolean;
  type?: string;
  relatedMessageId?: number;
  customHeaders?: { name: string; value: string }[];
}

export interface BrowserApi {
  compose: {
    listAttachments(tabId: number): Promise<{ id: number; name: string; size: number }[]>;
  };
  messages: {
    get(id: number): Promise<{ author: string; recipients: string[]; ccList: string[] }>;
  };
  windows: {
    create(options: { type: "popup"; url: string; width: number; height: number }): Promise<{ id?: number }>;
  };
  storage: {
    local: {
      get(key: string): Promise<Record<string, unknown>>;
      set(items: Record<string, unknown>): Promise<void>;
    };
    managed: { get(key: string): Promise<Record<string, unknown>> };
  };
  i18n: { getUILanguage(): string };
  runtime: { getURL(path: string): string };
}

export type BeforeSendResult = { cancel: true } | { details: ComposeDetailsLike };
