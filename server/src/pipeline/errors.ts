// Why intake refused a message, with the SMTP reply and the HTTP status for each reason.
export type IntakeCode =
  | "bare_line_ending"
  | "too_large"
  | "header_too_large"
  | "bad_message"
  | "no_recipients"
  | "too_many_recipients"
  | "bad_recipient"
  | "rejected"
  | "sender_not_allowed"
  | "multiple_senders"
  | "storage";

const replies: Record<IntakeCode, { smtp: number; enhanced: string; http: number }> = {
  bare_line_ending: { smtp: 550, enhanced: "5.6.11", http: 400 },
  too_large: { smtp: 552, enhanced: "5.3.4", http: 413 },
  header_too_large: { smtp: 552, enhanced: "5.3.4", http: 413 },
  bad_message: { smtp: 554, enhanced: "5.6.0", http: 400 },
  no_recipients: { smtp: 554, enhanced: "5.5.1", http: 400 },
  too_many_recipients: { smtp: 452, enhanced: "4.5.3", http: 400 },
  bad_recipient: { smtp: 553, enhanced: "5.1.3", http: 400 },
  rejected: { smtp: 550, enhanced: "5.7.1", http: 422 },
  sender_not_allowed: { smtp: 550, enhanced: "5.7.1", http: 422 },
  multiple_senders: { smtp: 550, enhanced: "5.7.1", http: 422 },
  storage: { smtp: 451, enhanced: "4.3.0", http: 503 },
};

export class IntakeError extends Error {
  constructor(
    readonly code: IntakeCode,
    readonly detail: string,
  ) {
    super(`${code}: ${detail}`);
  }

  get smtpCode(): number {
    return replies[this.code].smtp;
  }

  get enhancedCode(): string {
    return replies[this.code].enhanced;
  }

  get httpStatus(): number {
    return replies[this.code].http;
  }
}

/** A policy rule refused the message: the reason is the rule's text for people. */
export class PolicyRejection extends IntakeError {
  constructor(
    readonly rule: string,
    readonly reason: { ja: string; en: string },
  ) {
    super("rejected", `${reason.en} (rule ${rule})`);
  }
}
