// Showing API errors on forms: field errors next to their fields, the rest on top.
//
// A form marks where each field's message goes with `data-error-for="<field>"`
// (the field as PROTOCOL.md's 422 `details` names it, e.g. `options[2]`) and the
// control itself with `data-field="<field>"`.

import { describeError } from './api.js';

const REWORDINGS = [
  [/^String should have at least 1 character$/, () => 'This cannot be empty.'],
  [/^String should have at least (\d+) characters$/, (m) => `Use at least ${m[1]} characters.`],
  [/^String should have at most (\d+) characters$/, (m) => `Use at most ${m[1]} characters.`],
  [/^List should have at least (\d+) items?/, (m) => `Give at least ${m[1]}.`],
  [/^List should have at most (\d+) items?/, (m) => `Give at most ${m[1]}.`],
  [/should match pattern/, () => 'Use only letters, digits and the characters . _ -'],
  [/^Field required$/, () => 'This is required.'],
];

export function plainFieldMessage(message) {
  for (const [pattern, reword] of REWORDINGS) {
    const match = pattern.exec(message);
    if (match) return reword(match);
  }
  return message.charAt(0).toUpperCase() + message.slice(1);
}

export function clearErrors(form, summary) {
  for (const el of form.querySelectorAll('[data-error-for]')) {
    el.textContent = '';
    el.hidden = true;
  }
  for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
  summary.textContent = '';
  summary.hidden = true;
}

function placeFieldError(form, field, message) {
  const slot = [...form.querySelectorAll('[data-error-for]')].find(
    (el) => el.dataset.errorFor === field,
  );
  if (!slot) return false;
  slot.textContent = message;
  slot.hidden = false;
  const control = [...form.querySelectorAll('[data-field]')].find(
    (el) => el.dataset.field === field,
  );
  if (control) control.setAttribute('aria-invalid', 'true');
  return true;
}

/**
 * Show `err` on `form`: field errors by their slots, anything unplaced in `summary`.
 * `fieldOf` maps an error code to a field (e.g. username_taken → username).
 */
export function showErrors(form, summary, err, fieldOf = {}) {
  clearErrors(form, summary);
  const unplaced = [];
  const details = err && Array.isArray(err.details) ? err.details : [];
  if (err && err.code === 'validation_failed' && details.length) {
    for (const detail of details) {
      const message = plainFieldMessage(String(detail.message || ''));
      if (!placeFieldError(form, String(detail.field), message)) {
        unplaced.push(`${detail.field}: ${message}`);
      }
    }
  } else if (err && fieldOf[err.code] && placeFieldError(form, fieldOf[err.code], describeError(err))) {
    // shown by its field
  } else {
    unplaced.push(describeError(err));
  }
  if (details.length && err.code === 'validation_failed') unplaced.unshift(describeError(err));
  summary.textContent = unplaced.join(' ');
  summary.hidden = summary.textContent === '';
  const first = form.querySelector('[aria-invalid="true"]');
  if (first) first.focus();
}

/**
 * Run `fn` (a request a button makes) with `buttons` (one, a list, or none) disabled,
 * its failure shown in `errorEl` in `describe`'s words. Resolves to fn's value, or
 * undefined on failure. Buttons already disabled by the view stay disabled: the view
 * re-renders afterwards.
 */
export async function busy(buttons, errorEl, fn, describe = describeError) {
  const list = [buttons ?? []].flat();
  for (const b of list) b.disabled = true;
  errorEl.hidden = true;
  try {
    return await fn();
  } catch (err) {
    errorEl.textContent = describe(err);
    errorEl.hidden = false;
    return undefined;
  } finally {
    for (const b of list) b.disabled = false;
  }
}
