// Sign in / create an account, shared by the home page, the host page and the audience
// pages (inline, for a poll only accounts may vote in).

import { ACCOUNT, api, session } from './api.js';
import { h } from './dom.js';
import { clearErrors, showErrors } from './forms.js';

function field(prefix, name, label, attrs, hint) {
  const id = `${prefix}-${name}`;
  const hintEl = hint ? h('p', { class: 'hint', id: `${id}-hint`, text: hint }) : null;
  const error = h('p', {
    class: 'field-error', id: `${id}-error`, hidden: true, dataset: { errorFor: name },
  });
  const describedBy = [hintEl ? hintEl.id : null, error.id].filter(Boolean).join(' ');
  return h(
    'div',
    { class: 'field' },
    h('label', { for: id, text: label }),
    h('input', { id, name, dataset: { field: name }, 'aria-describedby': describedBy, ...attrs }),
    hintEl,
    error,
  );
}

function authForm(prefix, title, submitLabel, passwordAutocomplete, hints, onSubmit) {
  const summary = h('p', { class: 'form-error', role: 'alert', hidden: true });
  const button = h('button', { type: 'submit', class: 'primary', text: submitLabel });
  const form = h(
    'form',
    { class: 'card auth-form', novalidate: true, 'aria-labelledby': `${prefix}-title` },
    h('h2', { id: `${prefix}-title`, text: title }),
    summary,
    field(prefix, 'username', 'Username', {
      autocomplete: 'username', autocapitalize: 'none', spellcheck: 'false', maxlength: '32',
    }, hints.username),
    field(prefix, 'password', 'Password', {
      type: 'password', autocomplete: passwordAutocomplete, maxlength: '128',
    }, hints.password),
    button,
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form, summary);
    button.disabled = true;
    try {
      await onSubmit(form.elements.username.value.trim(), form.elements.password.value);
    } catch (err) {
      showErrors(form, summary, err, { username_taken: 'username' });
    } finally {
      button.disabled = false;
    }
  });
  return form;
}

async function signIn(username, password) {
  const token = await api('/auth/login', { method: 'POST', body: { username, password } });
  session(ACCOUNT).store(token);
  return token;
}

/**
 * Mount both forms in `container`; `onSignedIn(token)` runs after either succeeds.
 * `registerTitle`: the audience pages ask for an account to vote with, not to host.
 */
export function mountAuth(container, onSignedIn, { registerTitle = 'Create a host account' } = {}) {
  const signin = authForm('signin', 'Sign in', 'Sign in', 'current-password', {}, async (u, p) => {
    onSignedIn(await signIn(u, p));
  });
  const register = authForm(
    'register',
    registerTitle,
    'Create account',
    'new-password',
    {
      username: '3 to 32 letters, digits or . _ -',
      password: 'At least 8 characters.',
    },
    async (u, p) => {
      await api('/auth/register', { method: 'POST', body: { username: u, password: p } });
      onSignedIn(await signIn(u, p));
    },
  );
  container.replaceChildren(h('div', { class: 'auth-grid' }, signin, register));
}
