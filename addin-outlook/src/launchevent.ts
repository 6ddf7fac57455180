// The event runtime's entry (dist/launchevent.js): one bundle without DOM access or import(), as
// classic Outlook on Windows runs it in a JavaScript-only runtime where Office.onReady is never
// called. Without these associations a SoftBlock add-in blocks every send.
import { ATTACHMENTS_FUNCTION, RECIPIENTS_FUNCTION, SEND_FUNCTION } from "./handler/commands.js";
import { createHandlers } from "./handler/on-send.js";

const handlers = createHandlers();
Office.actions.associate(SEND_FUNCTION, handlers.onSendGuard);
Office.actions.associate(RECIPIENTS_FUNCTION, handlers.onRecipientsChanged);
Office.actions.associate(ATTACHMENTS_FUNCTION, handlers.onAttachmentsChanged);
