// Small DOM helpers and the shared components of the design system.
// Everything builds nodes with createElement/textContent: data never goes through innerHTML.
import { icon } from './icons.js';

export { icon };

/**
 * h('button', {class: 'btn btn-primary', type: 'button', onclick: fn, 'aria-label': 'x'}, 'Text', node)
 * - strings/numbers become text nodes, null/false are skipped, arrays are flattened
 * - on<event> props become listeners; `dataset` is an object; other props become attributes
 */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  if (props) {
    for (const [k, v] of Object.entries(props)) {
      if (v === undefined || v === null || v === false) continue;
      if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
      else if (k === 'class') el.className = v;
      else if (k === 'dataset') Object.assign(el.dataset, v);
      else if (k === 'value') el.value = v;
      else if (k === 'checked' || k === 'disabled' || k === 'selected' || k === 'hidden' || k === 'required') el[k] = Boolean(v);
      else el.setAttribute(k, v === true ? '' : String(v));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(String(c)));
  }
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

/** Page header: title, one-line description, optional actions on the right. */
export function pageHeader({ title, description, actions = [] }) {
  return h('header', { class: 'page-header' },
    h('div', { class: 'page-header-text' },
      h('h1', { class: 'page-title', tabindex: '-1' }, title),
      description ? h('p', { class: 'page-description' }, description) : null),
    actions.length ? h('div', { class: 'page-actions' }, actions) : null);
}

/** Empty state: icon, title, one sentence, optional action nodes. */
export function emptyState({ iconName = 'info', title, text, actions = [], tone = '', level = 2 }) {
  return h('div', { class: 'empty-state' + (tone ? ' empty-state-' + tone : '') },
    h('div', { class: 'empty-state-icon' }, icon(iconName, { size: 28 })),
    h('h' + level, { class: 'empty-state-title', tabindex: level === 1 ? '-1' : null }, title),
    text ? h('p', { class: 'empty-state-text' }, text) : null,
    actions.length ? h('div', { class: 'empty-state-actions' }, actions) : null);
}

/**
 * The honest placeholder for pages a later issue builds. Used by page modules like:
 *   export default notBuiltPage({ iconName, title, description, plan })
 */
export function notBuiltPage({ iconName, title, description, plan }) {
  return function render(root) {
    root.append(
      pageHeader({ title, description }),
      h('section', { class: 'card' },
        emptyState({
          iconName,
          title: 'Not built yet',
          text: plan,
          actions: [h('span', { class: 'badge badge-neutral' }, icon('cone', { size: 14 }), 'Coming in a later release')],
        })));
  };
}

/** Loading placeholder rows. */
export function skeleton(lines = 3) {
  const wrap = h('div', { class: 'skeleton-group', 'aria-hidden': 'true' });
  for (let i = 0; i < lines; i++) {
    const bar = h('div', { class: 'skeleton' });
    bar.style.width = Math.max(30, 90 - i * 17) + '%'; // CSSOM, not a style attribute: fine under a strict CSP
    wrap.append(bar);
  }
  return h('div', { role: 'status', 'aria-live': 'polite' }, h('span', { class: 'sr-only' }, 'Loading…'), wrap);
}

/** Error state with a retry button. */
export function errorState(message, onRetry) {
  return emptyState({
    iconName: 'alert',
    tone: 'danger',
    title: 'Something went wrong',
    text: message,
    actions: onRetry ? [h('button', { class: 'btn btn-secondary', type: 'button', onclick: onRetry }, icon('refresh', { size: 16 }), 'Try again')] : [],
  });
}

// ---------- loading a box ----------

const FRAMES = {
  card: (node) => h('section', { class: 'card' }, node),
  'card-body': (node) => h('div', { class: 'card-body' }, node),
};

/** container -> {token, failed} of the latest loadInto on it. */
const loads = new WeakMap();

/**
 * The one "fetch something into a box" flow of the dashboard:
 *   loadInto(container, () => get('/api/x', { signal: ctx.signal }), (data, container) => nodes, options)
 * 1. shows skeleton(lines) in the container (wrapped by `frame`);
 * 2. awaits fetcher();
 * 3. on success clears the container and calls render(data, container); nodes it returns are
 *    appended (it may also fill the container itself). With render = null the skeleton stays and
 *    the caller renders: pages whose whole body depends on the data (pass `retry` then);
 * 4. on failure shows errorState(err.message, retry), wrapped by `frame`; retry runs this same load
 *    again unless `retry` is given. `error(err, retry)` may return other nodes to show instead
 *    (a not-found state, another layout); they are not wrapped.
 * Options: lines (3), frame ('card' | 'card-body' | node => node), keep (leave what the container
 * shows while loading, unless it is empty or shows this flow's error state), retry, error, signal
 * (once aborted, a late answer is dropped). An AbortError shows nothing, and a newer loadInto on
 * the same container wins: an older one finishing later changes nothing.
 * Resolves to the data once rendered, or undefined (failed, aborted or superseded).
 */
export async function loadInto(container, fetcher, render, options = {}) {
  const { lines = 3, frame = null, keep = false, retry = null, error = null, signal = null } = options;
  const wrap = typeof frame === 'function' ? frame : (FRAMES[frame] || ((node) => node));
  const previous = loads.get(container);
  const load = { failed: false };
  loads.set(container, load);
  if (!keep || !container.firstChild || (previous && previous.failed)) {
    clear(container).append(wrap(skeleton(lines)));
  }
  const stale = () => loads.get(container) !== load || Boolean(signal && signal.aborted);

  let data;
  try {
    data = await fetcher();
  } catch (err) {
    if ((err && err.name === 'AbortError') || stale()) return undefined;
    load.failed = true;
    const again = retry || (render ? () => loadInto(container, fetcher, render, options) : null);
    const custom = error ? error(err, again) : null;
    clear(container);
    append(container, [custom || wrap(errorState(err && err.message ? err.message : String(err), again))]);
    return undefined;
  }
  if (stale()) return undefined;
  if (render) {
    clear(container);
    const out = await render(data, container);
    if (out) append(container, [out]);
  }
  return data;
}

export function badge(text, tone = 'neutral') {
  return h('span', { class: 'badge badge-' + tone }, text);
}

// ---------- toasts ----------

function toastRegion() {
  let region = document.getElementById('toasts');
  if (!region) {
    region = h('div', { id: 'toasts', class: 'toast-region', role: 'status', 'aria-live': 'polite' });
    document.body.append(region);
  }
  return region;
}

/** toast('Saved', 'success' | 'error' | 'info') */
export function toast(message, tone = 'info', { timeout = 4500 } = {}) {
  const iconName = tone === 'success' ? 'check' : tone === 'error' ? 'alert' : 'info';
  const el = h('div', { class: 'toast toast-' + tone },
    icon(iconName, { size: 18 }),
    h('span', { class: 'toast-message' }, message),
    h('button', { class: 'btn-icon btn-icon-sm toast-close', type: 'button', 'aria-label': 'Dismiss notification', onclick: () => dismiss() }, icon('close', { size: 16 })));
  if (tone === 'error') el.setAttribute('role', 'alert');
  const region = toastRegion();
  region.append(el);
  requestAnimationFrame(() => el.classList.add('toast-in'));
  let timer = setTimeout(dismiss, timeout);
  el.addEventListener('mouseenter', () => clearTimeout(timer));
  el.addEventListener('mouseleave', () => { timer = setTimeout(dismiss, 2000); });
  function dismiss() {
    clearTimeout(timer);
    el.classList.remove('toast-in');
    setTimeout(() => el.remove(), 200);
  }
  return dismiss;
}

// ---------- confirm dialog ----------

/** Resolves true when the user confirms. Uses a native <dialog> (focus trap, Escape). */
export function confirmDialog({ title, text, confirmLabel = 'Confirm', danger = false }) {
  return new Promise((resolve) => {
    const confirmBtn = h('button', { class: 'btn ' + (danger ? 'btn-danger' : 'btn-primary'), type: 'submit', value: 'ok' }, confirmLabel);
    const dlg = h('dialog', { class: 'dialog', 'aria-labelledby': 'dlg-title' },
      h('form', { method: 'dialog', class: 'dialog-body' },
        h('h2', { id: 'dlg-title', class: 'dialog-title' }, title),
        text ? h('p', { class: 'dialog-text' }, text) : null,
        h('div', { class: 'dialog-actions' },
          h('button', { class: 'btn btn-secondary', type: 'submit', value: 'cancel' }, 'Cancel'),
          confirmBtn)));
    dlg.addEventListener('close', () => {
      resolve(dlg.returnValue === 'ok');
      dlg.remove();
    });
    dlg.addEventListener('click', (e) => { if (e.target === dlg) dlg.close('cancel'); });
    document.body.append(dlg);
    dlg.showModal();
    confirmBtn.focus();
  });
}

// ---------- formatting ----------

export function formatDate(ms, { time = false } = {}) {
  if (ms === null || ms === undefined || ms === '') return '—';
  const d = new Date(typeof ms === 'number' ? ms : Number(ms) || ms);
  if (Number.isNaN(d.getTime())) return '—';
  const opts = { year: 'numeric', month: 'short', day: 'numeric' };
  if (time) Object.assign(opts, { hour: '2-digit', minute: '2-digit' });
  return new Intl.DateTimeFormat(undefined, opts).format(d);
}

export function roleLabel(role) {
  return { owner: 'Owner', admin: 'Admin', member: 'Member' }[role] || String(role || '');
}

export function roleTone(role) {
  return { owner: 'primary', admin: 'info', member: 'neutral' }[role] || 'neutral';
}

// ---------- files ----------

/** Save a Blob as a file through a temporary object URL and an <a download>. */
export function downloadBlob(blob, filename) {
  const url = URL.createObjectURL(blob);
  const a = h('a', { href: url, download: filename, class: 'sr-only' });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** Read a File/Blob as base64 (without the data: prefix). */
export function readAsBase64(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => {
      const s = String(reader.result || '');
      resolve(s.slice(s.indexOf(',') + 1));
    };
    reader.onerror = () => reject(reader.error || new Error('Could not read the file.'));
    reader.readAsDataURL(file);
  });
}

/** Debounce: the returned function runs `fn` once, `ms` after the last call; `.cancel()` drops it. */
export function debounce(fn, ms) {
  let timer = 0;
  const run = (...args) => { clearTimeout(timer); timer = setTimeout(() => fn(...args), ms); };
  run.cancel = () => clearTimeout(timer);
  return run;
}
