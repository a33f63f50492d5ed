// A quiz's leaderboard (GET /polls/{id}/leaderboard, /sessions/{id}/leaderboard, PROTOCOL
// "Quiz") for a page that shows it once a quiz closes: asked for again while a closed
// quiz is still being made final (`pending`, a second or so) and after a failed request.

import { authed } from './api.js';

const PENDING_MS = 1000;
const FAILED_MS = 5000;

/**
 * Call `onBoard(leaderboard)` with `path`'s board (asked with the api.js session `key`)
 * each time it is read, until it has nothing pending. Returns a function that stops.
 */
export function followBoard(key, path, onBoard) {
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
    if (got === null) timer = setTimeout(load, FAILED_MS);
    else {
      if (got.pending.length) timer = setTimeout(load, PENDING_MS);
      onBoard(got);
    }
  }
  load();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
