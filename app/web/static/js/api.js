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
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) {
    const error = (data && typeof data.error === 'object' && data.error) || {};
    throw new ApiError(
      response.status,
      error.code || `http_${response.status}`,
      error.message || response.statusText,
      error.details ?? null,
      Number(response.headers.get('Retry-After')) || null,
    );
  }
  return data;
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

// --- tokens -------------------------------------------------------------------------

export const ACCOUNT = 'livepolls.account';
export const GUEST = 'livepolls.guest';

export function loadToken(key) {
  try {
    const token = JSON.parse(localStorage.getItem(key) || 'null');
    return token && typeof token.access_token === 'string' ? token : null;
  } catch {
    return null;
  }
}

export function saveToken(key, token) {
  localStorage.setItem(key, JSON.stringify(token));
}

export function clearToken(key) {
  localStorage.removeItem(key);
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

/** The account token when signed in, else this browser's guest token (made once). */
export async function voterToken() {
  const account = loadToken(ACCOUNT);
  if (account) return account;
  const guest = loadToken(GUEST);
  if (guest) return guest;
  const fresh = await api('/auth/guest', { method: 'POST' });
  saveToken(GUEST, fresh);
  return fresh;
}
