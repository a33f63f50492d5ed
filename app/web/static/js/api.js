// REST calls and the tokens kept in localStorage (PROTOCOL.md "Errors", "Auth").

/** An error reply `{"error": {"code", "message", "details"}}`, or a network failure. */
export class ApiError extends Error {
  constructor(status, code, message, details = null, retryAfter = null) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
    this.retryAfter = retryAfter;
  }
}

export async function api(path, { method = 'GET', body, token } = {}) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (token) headers.Authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
    });
  } catch {
    throw new ApiError(0, 'network', 'network error');
  }
  if (response.status === 204) return null;
  if (!response.ok) throw await errorOf(response);
  try {
    return await response.json();
  } catch {
    return null;
  }
}

/** The ApiError of an error reply (its JSON body when it has one). */
async function errorOf(response) {
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  const error = (data && typeof data.error === 'object' && data.error) || {};
  return new ApiError(
    response.status,
    error.code || `http_${response.status}`,
    error.message || response.statusText,
    error.details ?? null,
    Number(response.headers.get('Retry-After')) || null,
  );
}

/**
 * GET a file (a CSV export) with a token: `{blob, filename}`, the filename from
 * `Content-Disposition` when the server names one. The whole body is read before it
 * resolves: a streamed export cut short by the server (PROTOCOL.md "CSV exports") is
 * a failure, never a partial file.
 */
export async function file(path, { token } = {}) {
  const headers = { Accept: 'text/csv, application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch(path, { headers, cache: 'no-store' });
  } catch {
    throw new ApiError(0, 'network', 'network error');
  }
  if (!response.ok) throw await errorOf(response);
  let blob;
  try {
    blob = await response.blob();
  } catch {
    throw new ApiError(0, 'cut_short', 'the download was cut short; please try again');
  }
  const named = /filename="([^"]+)"/.exec(response.headers.get('Content-Disposition') || '');
  return { blob, filename: named ? named[1] : null };
}

const PLAIN = {
  network: 'Cannot reach the server. Check your connection and try again.',
  unauthorized: 'Your session has ended. Please sign in again.',
  invalid_credentials: 'Wrong username or password.',
  username_taken: 'That username is taken. Please choose another one.',
  forbidden: 'You are not allowed to do that.',
  account_required: 'Only signed-in users can vote in this poll.',
  not_found: 'That poll does not exist (any more).',
  payload_too_large: 'That is too much text to send at once.',
  validation_failed: 'Some fields need fixing; see the notes next to them.',
  bad_json: 'The app sent a malformed request. Reload the page and try again.',
  internal_error: 'Something went wrong on our side. Please try again.',
  unavailable: 'The service is busy. Please try again in a moment.',
};

/** The error in plain words for a person (server messages are the fallback). */
export function describeError(err) {
  if (!(err instanceof ApiError)) return 'Something went wrong. Please try again.';
  if (err.code === 'rate_limited') {
    const wait = err.retryAfter ? ` in ${err.retryAfter} seconds` : ' in a moment';
    return `Too many attempts. Please try again${wait}.`;
  }
  if (err.code === 'internal_error' && err.details && err.details.request_id) {
    return `${PLAIN.internal_error} (Reference: ${err.details.request_id})`;
  }
  const plain = PLAIN[err.code];
  if (plain) return plain;
  const message = err.message || 'Something went wrong.';
  return message.charAt(0).toUpperCase() + message.slice(1) + (message.endsWith('.') ? '' : '.');
}

// --- tokens and sessions ----------------------------------------------------------------
//
// A stored token is the server's `Token` body: a short-lived access token and the
// session's refresh token (PROTOCOL.md "Auth", `POST /auth/refresh`), plus
// `obtained_at` (this browser's clock, so a skewed clock does not matter). Each
// session renews itself at about 80% of the access token's life, while the page is
// open, and on a 401 before anything else; the renewed tokens replace the old ones in
// localStorage, so a reload keeps the same user. Only a refresh the server refuses
// (401: the session ended, or was revoked) ends it; a network error or a 429 keeps
// the tokens and retries later, because a new guest is a new voter.
//
// Tokens live in localStorage (readable by script on our origin): accepted because the
// pages load no inline or third-party script (a strict Content-Security-Policy) and
// put user text into the DOM only as text.

export const ACCOUNT = 'livepolls.account';
export const GUEST = 'livepolls.guest';

const RENEW_AT = 0.8; // of the access token's life
const RENEW_JITTER = 0.05; // ± of the life, so a room of phones does not renew in one burst
const RETRY_MS = [2000, 5000, 15000, 30000];

export function loadToken(key) {
  try {
    const token = JSON.parse(localStorage.getItem(key) || 'null');
    return token && typeof token.access_token === 'string' ? token : null;
  } catch {
    return null;
  }
}

export function saveToken(key, token) {
  localStorage.setItem(key, JSON.stringify({ obtained_at: Date.now(), ...token }));
}

export function clearToken(key) {
  localStorage.removeItem(key);
}

/** Run `fn` holding this origin's lock on `name`, so only one tab renews a session. */
function exclusive(name, fn) {
  if (navigator.locks && navigator.locks.request) return navigator.locks.request(name, fn);
  return fn();
}

/** The renewable session kept under one localStorage key (ACCOUNT or GUEST). */
class Session {
  constructor(key) {
    this.key = key;
    this.timer = null;
    this.failures = 0;
    this.inflight = null;
    this.listeners = new Set();
    this.share = RENEW_AT + (Math.random() * 2 - 1) * RENEW_JITTER;
    // Another tab renewed (or ended) the session: follow it.
    window.addEventListener('storage', (event) => {
      if (event.key === this.key) this.changed();
    });
    // Timers sleep with a phone's screen: on waking, renew now if it is time.
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'visible' && this.due()) this.renewSoon(0);
    });
    this.schedule();
  }

  get token() {
    return loadToken(this.key);
  }

  /** Call `fn(token)` whenever the tokens change (renewed here or in another tab). */
  subscribe(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  store(token) {
    saveToken(this.key, token);
    this.failures = 0;
    this.changed();
  }

  clear() {
    clearToken(this.key);
    this.changed();
  }

  changed() {
    this.schedule();
    const token = this.token;
    if (token) for (const fn of this.listeners) fn(token);
  }

  renewAt(token) {
    return (token.obtained_at || 0) + (token.expires_in || 0) * 1000 * this.share;
  }

  due() {
    const token = this.token;
    return Boolean(token && token.refresh_token && Date.now() >= this.renewAt(token));
  }

  schedule() {
    clearTimeout(this.timer);
    this.timer = null;
    const token = this.token;
    if (token && token.refresh_token) this.renewSoon(this.renewAt(token) - Date.now());
  }

  renewSoon(delay) {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.renew().catch(() => {
        // Unreachable or rate-limited: the tokens stay; try again a little later.
        const wait = RETRY_MS[Math.min(this.failures, RETRY_MS.length - 1)];
        this.failures += 1;
        this.renewSoon(wait);
      });
    }, Math.max(0, delay));
  }

  /**
   * Renew the session. Resolves to the new token, or to null when the server refused
   * the refresh token (the session is over: the stored tokens are dropped). Rejects
   * on network errors and 429s, keeping the tokens. `stale` is the token the caller
   * found refused: if another tab already renewed past it, that renewal is the answer.
   */
  renew(stale = null) {
    if (!this.inflight) {
      this.inflight = exclusive(`${this.key}.renew`, () => this.renewLocked(stale))
        .finally(() => { this.inflight = null; });
    }
    return this.inflight;
  }

  async renewLocked(stale) {
    const token = this.token;
    if (!token) return null;
    // Another tab may have renewed while this one waited for the lock: unless the
    // stored token is the very one found refused, or due, it is the answer.
    const refused = stale !== null && token.access_token === stale.access_token;
    if (!refused && !this.due()) return token;
    if (!token.refresh_token) {
      // Stored before sessions existed: nothing to renew it with.
      this.clear();
      return null;
    }
    let fresh;
    try {
      fresh = await api('/auth/refresh', {
        method: 'POST', body: { refresh_token: token.refresh_token },
      });
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) {
        // Only if nobody renewed it meanwhile (the lock covers this origin's tabs).
        if (this.token && this.token.refresh_token === token.refresh_token) this.clear();
        return null;
      }
      throw err;
    }
    this.store(fresh);
    return this.token;
  }

  /** A token good for a request now: renewed first when it is past its renewal time. */
  async current() {
    const token = this.token;
    if (token && token.refresh_token && Date.now() >= this.renewAt(token)) {
      try {
        return (await this.renew()) || null;
      } catch {
        return token; // the server may still take it; a 401 renews again
      }
    }
    return token;
  }
}

const sessions = new Map();

/** This page's Session for `key` (one per key, shared by every caller). */
export function session(key) {
  if (!sessions.has(key)) sessions.set(key, new Session(key));
  return sessions.get(key);
}

/**
 * `request(accessToken)` with `key`'s session: on a 401 the session is renewed once and
 * the request repeated; a second 401 (or a session the server ended) is thrown.
 */
async function withSession(key, request) {
  const s = session(key);
  const token = await s.current();
  if (!token) throw new ApiError(401, 'unauthorized', 'not signed in');
  try {
    return await request(token.access_token);
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 401) throw err;
    const fresh = await s.renew(token);
    if (!fresh) throw err;
    return request(fresh.access_token);
  }
}

/** A REST call with `key`'s session (renewed and repeated once on a 401). */
export function authed(key, path, options = {}) {
  return withSession(key, (token) => api(path, { ...options, token }));
}

/** A file (`file` above) with `key`'s session (renewed and repeated once on a 401). */
export function authedFile(key, path) {
  return withSession(key, (token) => file(path, { token }));
}

/**
 * Is this token still accepted? true / false (a 401) / null (cannot tell: the server
 * is unreachable). Used when a WebSocket handshake fails, since a browser cannot see
 * the handshake's HTTP status.
 */
export async function tokenAccepted(token) {
  try {
    await api('/auth/me', { token });
    return true;
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return false;
    return null;
  }
}

/**
 * The signed-in account's session when there is one, else this browser's guest
 * session. A guest is created only when this browser has none: never to replace one
 * that a refresh could still renew.
 */
export async function voterSession() {
  if (session(ACCOUNT).token) return session(ACCOUNT);
  const guest = session(GUEST);
  if (!guest.token) {
    await exclusive(`${GUEST}.create`, async () => {
      if (!guest.token) guest.store(await api('/auth/guest', { method: 'POST' }));
    });
  }
  return guest;
}
