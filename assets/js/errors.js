// Errors whose message is written for the person using the page, as opposed to the programming
// errors TF.js or the browser throw. The page shows a PageError's message as it is; anything else
// is wrapped with a sentence that says what the page was doing.

export class PageError extends Error {
  /**
   * @param {string} message  a complete sentence or two, shown in the page's error region
   * @param {{cause?: unknown}} [options]
   */
  constructor(message, options = {}) {
    super(message, options);
    this.name = 'PageError';
  }
}

/** The message to show for any thrown value; `doing` says what failed ("Could not start the camera"). */
export function userMessage(error, doing) {
  if (error instanceof PageError) return error.message;
  const detail = error instanceof Error ? error.message : String(error);
  return detail ? `${doing}: ${detail}` : `${doing}.`;
}
