// A quiz's leaderboard (GET /polls/{id}/leaderboard, /sessions/{id}/leaderboard, PROTOCOL
// "Quiz") for a page that shows it once a quiz closes: asked for again while a closed
// quiz is still being made final (`pending`, a second or so) and after a failed request.

import { authed } from './api.js';

const PENDING_MS = 1000;
const FAILED_MS = 5000;
// Every phone in the room gets the close at the same instant: each waits a random part
// of this before its first request and between retries, so a room of 10,000 does not
// ask in one burst, again every second.
const SPREAD_MS = 1500;

const spread = (ms) => ms + Math.random() * SPREAD_MS;

/**
 * Call `onBoard(leaderboard)` with `path`'s board (asked with the api.js session `key`)
 * each time it is read, until it has nothing pending. Returns a function that stops.
 * `atOnce`: the first request without the wait (the projector: one per room).
 */
export function followBoard(key, path, onBoard, { atOnce = false } = {}) {
  let timer = null;
  let stopped = false;
  async function load() {
    let got = null;
    try {
      got = await authed(key, path);
    } catch {
      got = null;
    }
    if (stopped) return;
    if (got === null) timer = setTimeout(load, spread(FAILED_MS));
    else {
      if (got.pending.length) timer = setTimeout(load, spread(PENDING_MS));
      onBoard(got);
    }
  }
  timer = setTimeout(load, atOnce ? 0 : spread(0));
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
