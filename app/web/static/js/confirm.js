// A button that asks before it acts: pressed, it is replaced by the question, the
// button that really does it ("Yes, delete") and Cancel, in place (the pattern of the
// sessions list), so nothing is lost by a slip and no browser dialog is needed.

import { h } from './dom.js';

let seq = 0; // ids tying each question to its button

/**
 * `label`: the first button's text; `question`: what it will do, in words (or a
 * function giving them when the button is pressed, for a question that counts); `yes`: the
 * second button's text; `act()`: runs on yes (it shows its own failure) and resolves
 * to true when done. `ariaLabel` names the first button for a screen reader when
 * `label` alone is ambiguous in a list. Returns a <span> to place among the actions.
 */
export function confirmButton({ label, question, yes, act, ariaLabel = null, danger = true }) {
  const tone = danger ? 'danger' : null;
  const ask = h('button', { type: 'button', class: tone, text: label, 'aria-label': ariaLabel });
  seq += 1;
  const textId = `confirm-${seq}`;
  const text = h('span', { id: textId, class: 'hint confirm-question', hidden: true });
  // Focus moves to `sure`: the question is its description, read out with it.
  const sure = h('button', { type: 'button', class: tone, text: yes, hidden: true, 'aria-describedby': textId });
  const cancel = h('button', { type: 'button', text: 'Cancel', hidden: true });
  const asking = (on) => {
    ask.hidden = on;
    text.hidden = !on;
    sure.hidden = !on;
    cancel.hidden = !on;
  };
  ask.addEventListener('click', () => {
    text.textContent = typeof question === 'function' ? question() : question;
    asking(true);
    sure.focus();
  });
  cancel.addEventListener('click', () => {
    asking(false);
    ask.focus();
  });
  sure.addEventListener('click', async () => {
    sure.disabled = true;
    cancel.disabled = true;
    try {
      if (await act()) asking(false);
    } finally {
      sure.disabled = false;
      cancel.disabled = false;
    }
  });
  return h('span', { class: 'confirm' }, ask, text, sure, cancel);
}
