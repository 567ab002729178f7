// Login page: POST /api/login {"password"}; on success go to ?next= (same-origin paths only) or /.
import { api, get } from './api.js';

const form = document.getElementById('login-form');
const input = document.getElementById('password');
const submit = document.getElementById('login-submit');
const errorBox = document.getElementById('login-error');
const errorText = document.getElementById('login-error-text');
const toggle = document.getElementById('toggle-password');

function nextUrl() {
  const next = new URLSearchParams(location.search).get('next') || '';
  // Only paths on this site: "/..." but not "//host" or "/\host", and never back to /login.
  if (next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/\\') && !next.startsWith('/login')) return next;
  return '/';
}

// The server's message, made friendlier for the common cases (matched on the stable `code`).
function loginMessage(err) {
  if (err.code === 'wrong_password') return 'That password is not correct. Check it and try again.';
  const text = String(err.message || 'Sign-in failed.');
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function showError(message) {
  errorText.textContent = message;
  errorBox.hidden = false;
  input.setAttribute('aria-invalid', 'true');
}

function clearError() {
  errorBox.hidden = true;
  errorText.textContent = '';
  input.removeAttribute('aria-invalid');
}

function setBusy(busy) {
  submit.disabled = busy;
  submit.setAttribute('aria-busy', String(busy));
  const label = submit.querySelector('.btn-label');
  label.textContent = busy ? 'Signing in…' : 'Sign in';
  const spinner = submit.querySelector('.spinner');
  if (busy && !spinner) {
    const s = document.createElement('span');
    s.className = 'spinner';
    s.setAttribute('aria-hidden', 'true');
    submit.prepend(s);
  } else if (!busy && spinner) spinner.remove();
}

toggle.addEventListener('click', () => {
  const show = input.type === 'password';
  input.type = show ? 'text' : 'password';
  toggle.setAttribute('aria-pressed', String(show));
  toggle.setAttribute('aria-label', show ? 'Hide password' : 'Show password');
  input.focus();
});

input.addEventListener('input', () => { if (!errorBox.hidden) clearError(); });

form.addEventListener('submit', async (e) => {
  e.preventDefault();
  clearError();
  const password = input.value;
  if (!password) {
    showError('Enter the password.');
    input.focus();
    return;
  }
  setBusy(true);
  try {
    await api('/api/login', { method: 'POST', body: { password }, redirectOn401: false });
    location.assign(nextUrl());
  } catch (err) {
    setBusy(false);
    showError(loginMessage(err));
    input.select();
    input.focus();
  }
});

// Already signed in (cookie still valid)? Skip the form.
get('/api/me', { redirectOn401: false }).then(() => location.replace(nextUrl()), () => {});
