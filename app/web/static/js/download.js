// Saving an owner's export (PROTOCOL.md "CSV exports"): the routes want the Bearer
// token, which a plain link cannot send, so the file is fetched with the token and
// handed to the browser as a Blob behind a temporary <a download>. One function for
// every export of the host page: a poll's results and ballots, a session's results.

import { authedFile } from './api.js';
import { h } from './dom.js';

// The object URL outlives the click a little: the browser reads it after the event.
const REVOKE_AFTER_MS = 60_000;

/**
 * Fetch `path` with `key`'s session and save it as a file, named as the server names
 * it (`Content-Disposition`), else `fallbackName`. Rejects with the ApiError.
 */
export async function saveDownload(key, path, fallbackName) {
  const { blob, filename } = await authedFile(key, path);
  const url = URL.createObjectURL(blob);
  const link = h('a', { href: url, download: filename || fallbackName, hidden: true });
  document.body.append(link);
  try {
    link.click();
  } finally {
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), REVOKE_AFTER_MS);
  }
  return filename || fallbackName;
}
