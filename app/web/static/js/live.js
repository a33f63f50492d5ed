// One room over `/ws`, kept alive: reconnects with backoff and lets the page resync.
//
// The page gives a `join` message and handlers; after every (re)connection the
// socket sends `join` again, and the server's JOINED carries the full current state
// (PROTOCOL.md: "A client that reconnects and sends JOIN_POLL again gets the full
// current state"), so nothing has to be replayed. A browser cannot see why a
// handshake failed, so after a failed one the token is checked over REST: a 401
// means "renew the session", anything else means "the server is away, retry later".
//
// Token renewal keeps the socket: when the session renews (api.js, before the access
// token expires) the new token goes to the server in band (`AUTH`), so the room,
// its viewer count and the screen stay as they are. A socket closed with 4401 anyway
// (a phone asleep past the expiry, a revocation) renews the session and reconnects;
// only a session the server ended is handed to `sessionEnded`.

import { tokenAccepted } from './api.js';

const BACKOFF_MS = [500, 1000, 2000, 4000, 8000];
const MAX_BACKOFF_MS = 10000;
const PING_EVERY_MS = 20000;
const SILENT_LIMIT_MS = 45000;
const CLOSE_TOKEN = 4401;

export class LiveRoom {
  /**
   * @param {object} o
   * @param {() => Promise<object>} o.session  the api.js Session to connect with (may create one)
   * @param {(session: object) => Promise<void> | void} o.sessionEnded  the server ended it
   * @param {() => object} o.join  the JOIN_POLL message to send on every connection
   * @param {(message: object) => void} o.onMessage
   * @param {(state: string, retryMs?: number) => void} o.onStatus
   *   'connecting' | 'live' | 'waiting' (retry in retryMs) | 'stopped'
   */
  constructor({ session, sessionEnded, join, onMessage, onStatus }) {
    this.session = session;
    this.sessionEnded = sessionEnded;
    this.current = null; // the Session of the current connection
    this.unsubscribe = () => {};
    this.socketToken = null; // the access token the server holds for this socket
    this.auth = null; // {ref, token}: an AUTH sent, not yet answered
    this.join = join;
    this.onMessage = onMessage;
    this.onStatus = onStatus;
    this.ws = null;
    this.failures = 0;
    this.timer = null;
    this.pinger = null;
    this.lastHeard = 0;
    this.stopped = false;
    this.refs = 0;
    this.attempts = 0; // connect() calls: only the latest one may open a socket
    // Back online, or a phone's screen on again: retry now instead of after the backoff.
    this.wake = () => {
      if (!this.stopped && this.timer !== null && document.visibilityState === 'visible') {
        this.connectNow();
      }
    };
  }

  start() {
    this.stopped = false;
    window.addEventListener('online', this.wake);
    document.addEventListener('visibilitychange', this.wake);
    this.connectNow();
  }

  stop() {
    this.stopped = true;
    window.removeEventListener('online', this.wake);
    document.removeEventListener('visibilitychange', this.wake);
    clearTimeout(this.timer);
    this.timer = null;
    this.unsubscribe();
    this.unsubscribe = () => {};
    this.current = null;
    this.detach(1000, 'bye');
    this.onStatus('stopped');
  }

  /** The connection is healthy (the room answered): the next drop retries quickly. */
  healthy() {
    this.failures = 0;
  }

  get isOpen() {
    return this.ws !== null && this.ws.readyState === WebSocket.OPEN;
  }

  /** Send a message with a fresh `ref`; returns the ref, or null when not connected. */
  send(message) {
    if (!this.isOpen) return null;
    this.refs += 1;
    const ref = `${message.type[0].toLowerCase()}${this.refs}`;
    this.ws.send(JSON.stringify({ ...message, ref }));
    return ref;
  }

  connectNow() {
    clearTimeout(this.timer);
    this.timer = null;
    this.connect().catch(() => this.retry());
  }

  async connect() {
    this.detach(1000, 'reconnecting');
    this.onStatus('connecting');
    // A reconnection asked for while this one awaits (the page's voter changed) wins.
    const attempt = ++this.attempts;
    const session = await this.session();
    const current = await session.current();
    if (this.stopped || attempt !== this.attempts) return;
    if (!current) {
      await this.sessionEnded(session);
      throw new Error('session ended');
    }
    this.follow(session);
    const token = current.access_token;
    this.socketToken = token;
    this.auth = null;
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const ws = new WebSocket(`${scheme}://${location.host}/ws?token=${encodeURIComponent(token)}`);
    this.ws = ws;
    let opened = false;
    ws.addEventListener('open', () => {
      opened = true;
      this.lastHeard = Date.now();
      this.onStatus('live');
      this.send(this.join());
      // Renewed while the socket was opening: hand the server the newer token.
      const latest = session.token;
      if (latest) this.authenticate(latest.access_token);
      this.pinger = setInterval(() => this.keepAlive(), PING_EVERY_MS);
    });
    ws.addEventListener('message', (event) => {
      if (this.ws !== ws) return; // a socket this room has let go of
      this.lastHeard = Date.now();
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        return;
      }
      if (!message || typeof message !== 'object' || message.type === 'PONG') return;
      if (this.auth && message.ref === this.auth.ref) {
        this.authAnswered(message);
        return;
      }
      this.onMessage(message);
    });
    ws.addEventListener('close', (event) => {
      if (this.ws !== ws) return;
      this.ws = null;
      clearInterval(this.pinger);
      if (this.stopped) return;
      this.afterClose(event.code, opened, session, current).catch(() => this.retry());
    });
  }

  /** Send every renewed token of `session` to the server on the open socket. */
  follow(session) {
    if (this.current === session) return;
    this.unsubscribe();
    this.current = session;
    this.unsubscribe = session.subscribe((token) => this.authenticate(token.access_token));
  }

  authenticate(token) {
    if (!this.isOpen || token === this.socketToken || (this.auth && this.auth.token === token)) {
      return;
    }
    const ref = this.send({ type: 'AUTH', token });
    this.auth = { ref, token };
  }

  authAnswered(message) {
    const { token } = this.auth;
    this.auth = null;
    if (message.type === 'AUTHED') {
      this.socketToken = token;
    } else if (message.type === 'ERROR') {
      // The server kept the old token (it will close at its expiry): start afresh now.
      this.detach(4000, 'reauthenticating');
      this.retry();
    }
  }

  async afterClose(code, opened, session, token) {
    let refused = code === CLOSE_TOKEN;
    if (!refused && !opened) {
      // Refused before the upgrade: an expired or revoked token, or no server at all.
      refused = (await tokenAccepted(token.access_token)) === false;
    }
    if (refused && !(await session.renew(token))) await this.sessionEnded(session);
    this.retry();
  }

  retry() {
    if (this.stopped || this.timer !== null) return;
    const base = BACKOFF_MS[Math.min(this.failures, BACKOFF_MS.length - 1)];
    this.failures += 1;
    // Jitter, so a room of phones does not come back in one burst after a restart.
    const delay = Math.min(MAX_BACKOFF_MS, Math.round(base * (0.75 + Math.random() * 0.5)));
    this.onStatus('waiting', delay);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.connectNow();
    }, delay);
  }

  keepAlive() {
    if (!this.isOpen) return;
    if (Date.now() - this.lastHeard > SILENT_LIMIT_MS) {
      // A half-open connection (a phone that changed networks) never reports a close.
      this.detach(4000, 'silent');
      this.retry();
      return;
    }
    this.send({ type: 'PING' });
  }

  detach(code, reason) {
    const ws = this.ws;
    this.ws = null;
    clearInterval(this.pinger);
    if (ws !== null && ws.readyState <= WebSocket.OPEN) {
      try {
        ws.close(code, reason);
      } catch {
        // already closing
      }
    }
  }
}
