// The countdown to a poll's `closes_at`, drawn by the server's clock.
//
// A phone's or a projector's clock may be minutes off, and the server decides when
// voting closes (PROTOCOL.md `POST /polls/{id}/countdown`), so the time left is
// `closes_at` minus the server's now: JOINED, POLL_UPDATED and SESSION_STATE carry
// `server_now` (ms), and the offset to this device's clock is taken at receipt (the
// frame's travel time makes it err a little early, never late). At zero the
// countdown says "closed" at once; the server closes the poll and POLL_UPDATED follows.

import { setText } from './dom.js';

const TICK_MS = 250;

/** The server's clock as seen from here: `Date.now()` plus the last known offset. */
export class ServerClock {
  constructor() {
    this.offset = 0;
  }

  /** Take the offset from a message's `server_now` (ignored when absent). */
  sync(serverNow) {
    if (typeof serverNow === 'number' && Number.isFinite(serverNow)) {
      this.offset = serverNow - Date.now();
    }
  }

  now() {
    return Date.now() + this.offset;
  }
}

/** "1:02:03", "2:05", "0:09": whole seconds left, rounded up (0:01 until the end). */
export function formatRemaining(ms) {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = String(total % 60).padStart(2, '0');
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, '0')}:${seconds}` : `${minutes}:${seconds}`;
}

export class Countdown {
  /**
   * @param {HTMLElement} el  shown while a poll has a `closes_at`; its `data-state` is
   *   "running" or "closed" (for styles and tests)
   * @param {ServerClock} clock
   * @param {object} [o]
   * @param {string} [o.prefix]  before the time left
   * @param {string} [o.closedText]
   */
  constructor(el, clock, { prefix = 'Closes in', closedText = 'Voting closed' } = {}) {
    this.el = el;
    this.clock = clock;
    this.prefix = prefix;
    this.closedText = closedText;
    this.deadline = null;
    this.closed = false;
    this.timer = null;
    this.el.hidden = true;
  }

  /** Follow `poll` (null: nothing to count down). */
  set(poll) {
    const at = poll && poll.closes_at ? Date.parse(poll.closes_at) : NaN;
    this.deadline = Number.isFinite(at) && poll.status !== 'draft' ? at : null;
    this.closed = Boolean(poll && poll.status === 'closed');
    this.tick();
  }

  /** Milliseconds left by the server's clock, or null when there is no deadline. */
  remaining() {
    return this.deadline === null ? null : this.deadline - this.clock.now();
  }

  tick() {
    clearTimeout(this.timer);
    this.timer = null;
    const left = this.remaining();
    this.el.hidden = left === null;
    if (left === null) return;
    if (this.closed || left <= 0) {
      this.el.dataset.state = 'closed';
      setText(this.el, this.closedText);
      return;
    }
    this.el.dataset.state = 'running';
    setText(this.el, `${this.prefix} ${formatRemaining(left)}`);
    this.timer = setTimeout(() => this.tick(), Math.min(TICK_MS, left));
  }

  stop() {
    clearTimeout(this.timer);
    this.timer = null;
  }
}
