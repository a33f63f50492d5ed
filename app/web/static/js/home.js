// `/`: join a poll by its code, or sign in / create an account to host one.

import { ACCOUNT, loadToken } from './api.js';
import { mountAuth } from './auth-form.js';
import { byId, normalizeCode } from './dom.js';

const form = byId('join-form');
const input = byId('join-code');
const error = byId('join-error');

form.addEventListener('submit', (event) => {
  event.preventDefault();
  const code = normalizeCode(input.value);
  if (!code) {
    error.textContent = 'A code has 6 letters and digits (no 0, 1, I or O), like K7RM2Q.';
    error.hidden = false;
    input.setAttribute('aria-invalid', 'true');
    input.focus();
    return;
  }
  location.assign(`/p/${code}`);
});

input.addEventListener('input', () => {
  error.hidden = true;
  input.removeAttribute('aria-invalid');
});

const account = loadToken(ACCOUNT);
if (account && account.user) {
  byId('signed-in-name').textContent = account.user.username;
  byId('signed-in').hidden = false;
} else {
  mountAuth(byId('auth'), () => location.assign('/host'));
}
