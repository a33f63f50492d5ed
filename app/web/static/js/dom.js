// Building DOM without markup strings: every text goes through textContent, so a
// label like `<img src=x onerror=...>` is shown as written and never parsed.

/**
 * Create an element. `props`: `class`, `text`, `dataset`, `on` (event listeners),
 * boolean properties (`hidden`, `disabled`, `checked`), anything else an attribute.
 * Children are nodes or strings (strings become text nodes).
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') el.className = value;
    else if (key === 'text') el.textContent = value;
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key === 'on') {
      for (const [event, listener] of Object.entries(value)) el.addEventListener(event, listener);
    } else if (key === 'hidden' || key === 'disabled' || key === 'checked' || key === 'required') {
      el[key] = Boolean(value);
    } else el.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(typeof child === 'string' ? document.createTextNode(child) : child);
  }
  return el;
}

/** The element with this id; throws early if a page and its module disagree. */
export function byId(id) {
  const el = document.getElementById(id);
  if (!el) throw new Error(`missing #${id}`);
  return el;
}

/** Set text only when it changed, so screen readers and layout are not disturbed. */
export function setText(el, text) {
  const value = String(text);
  if (el.textContent !== value) el.textContent = value;
}

export function show(el, visible) {
  el.hidden = !visible;
}

/** Local time of an ISO string, short, e.g. "14:05" or "Tue 14:05". */
export function shortTime(iso) {
  if (!iso) return '';
  const when = new Date(iso);
  const sameDay = when.toDateString() === new Date().toDateString();
  return when.toLocaleString(undefined, sameDay
    ? { hour: '2-digit', minute: '2-digit' }
    : { weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });
}

export const CODE_ALPHABET = /^[ABCDEFGHJKLMNPQRSTUVWXYZ23456789]{6}$/;

/** The canonical form of a typed join code, or null when it cannot be one. */
export function normalizeCode(raw) {
  const code = String(raw || '').replace(/[\s-]/g, '').toUpperCase();
  return CODE_ALPHABET.test(code) ? code : null;
}

/**
 * `num / den` with `digits` decimals, rounded half up from the integers themselves: an
 * average shown from the counts is the same on every screen (no float drift).
 */
export function decimal(num, den, digits = 2) {
  const scale = 10 ** digits;
  const q = Math.floor((2 * num * scale + den) / (2 * den));
  const frac = digits ? `.${String(q % scale).padStart(digits, '0')}` : '';
  return `${Math.floor(q / scale)}${frac}`;
}

/** 1st, 2nd, 3rd, 4th… (places and scale ends are small numbers). */
export function ordinal(n) {
  const teen = n % 100 >= 11 && n % 100 <= 13;
  return `${n}${(!teen && { 1: 'st', 2: 'nd', 3: 'rd' }[n % 10]) || 'th'}`;
}
