// Coupon Bot → Broadcasts: audience size (GET /api/broadcast-audience), message editor with a
// live preview, a dry run that checks the markup and counts recipients, send with confirmation
// (POST /api/broadcast with an Idempotency-Key), live progress (GET /api/broadcast-status/{id}),
// pause / resume / cancel, history (GET /api/broadcast-jobs) and the CSV delivery report.
import { get, post, api } from '../api.js';
import { h, clear, pageHeader, loadInto, emptyState, badge, toast, confirmDialog, downloadBlob, formatDate } from '../ui.js';

const STATUS_TONE = { queued: 'info', running: 'primary', paused: 'warning', completed: 'success', cancelled: 'neutral', failed: 'danger' };
const LIMIT_TEXT = 4096;
const LIMIT_CAPTION = 1024;

// --- preview: markup becomes DOM nodes (never innerHTML on the page) ---

const HTML_TAGS = { b: 'strong', strong: 'strong', i: 'em', em: 'em', u: 'u', ins: 'u', s: 's', strike: 's', del: 's', code: 'code', pre: 'pre', blockquote: 'blockquote', a: 'a', 'tg-spoiler': 'span', span: 'span' };

function htmlPreview(text) {
  // DOMParser builds an inert document: nothing in it runs; we copy allowed tags as new nodes.
  const doc = new DOMParser().parseFromString('<body>' + text.replace(/\n/g, '<br>') + '</body>', 'text/html');
  function copy(node) {
    if (node.nodeType === Node.TEXT_NODE) return document.createTextNode(node.textContent);
    if (node.nodeType !== Node.ELEMENT_NODE) return null;
    const name = node.tagName.toLowerCase();
    if (name === 'br') return document.createElement('br');
    const tag = HTML_TAGS[name];
    const out = tag ? document.createElement(tag) : document.createDocumentFragment();
    if (tag === 'a') {
      const href = node.getAttribute('href') || '';
      if (/^(https?:|tg:)/i.test(href)) { out.setAttribute('href', href); out.setAttribute('target', '_blank'); out.setAttribute('rel', 'noopener noreferrer'); }
    }
    for (const child of node.childNodes) { const c = copy(child); if (c) out.append(c); }
    return out;
  }
  const frag = document.createDocumentFragment();
  for (const child of doc.body.childNodes) { const c = copy(child); if (c) frag.append(c); }
  return frag;
}

function markdownPreview(text) {
  const frag = document.createDocumentFragment();
  const stack = [frag];
  const marks = [];
  const top = () => stack[stack.length - 1];
  const toggle = (mark, tag) => {
    if (marks[marks.length - 1] === mark) { marks.pop(); stack.pop(); return; }
    const node = document.createElement(tag);
    top().append(node); stack.push(node); marks.push(mark);
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\\' && i + 1 < text.length) { top().append(text[++i]); continue; }
    if (c === '*') { toggle('*', 'strong'); continue; }
    if (c === '_' && text[i + 1] === '_') { toggle('__', 'u'); i++; continue; }
    if (c === '_') { toggle('_', 'em'); continue; }
    if (c === '~') { toggle('~', 's'); continue; }
    if (c === '|' && text[i + 1] === '|') { toggle('||', 'span'); i++; continue; }
    if (c === '`') {
      const end = text.indexOf('`', i + 1);
      if (end > i) { top().append(h('code', {}, text.slice(i + 1, end))); i = end; continue; }
    }
    if (c === '\n') { top().append(document.createElement('br')); continue; }
    top().append(c);
  }
  return frag;
}

/** The text a recipient reads: markup removed (the history shows this, never the raw tags). */
function visibleText(text, mode) {
  if (mode === 'HTML') {
    const doc = new DOMParser().parseFromString('<body>' + text + '</body>', 'text/html');
    return doc.body.textContent;
  }
  if (mode === 'MarkdownV2') return text.replace(/\\(.)|[*_~`|]/g, (m, escaped) => escaped ?? '');
  return text;
}

function visibleLength(text, mode) {
  return visibleText(text, mode).length;
}

export default async function render(root, ctx) {
  root.append(pageHeader({
    title: 'Broadcasts',
    description: 'Send a message to everyone who uses your coupon bot — new templates, offers, news.',
  }));
  const audienceValue = h('div', { class: 'stat-value', id: 'bc-audience' }, '…');
  const message = h('textarea', { class: 'textarea', id: 'bc-message', rows: '7', maxlength: '32768', placeholder: 'Fresh Black Friday templates are in — try them with /generate', 'aria-describedby': 'bc-count bc-error' });
  const mode = h('select', { class: 'select', id: 'bc-mode', 'aria-label': 'Formatting' },
    h('option', { value: '' }, 'Plain text'), h('option', { value: 'HTML' }, 'HTML'), h('option', { value: 'MarkdownV2' }, 'MarkdownV2'));
  const photo = h('input', { class: 'input', id: 'bc-photo', type: 'url', placeholder: 'https://… (optional)', maxlength: '2048' });
  const buttonText = h('input', { class: 'input', id: 'bc-button-text', placeholder: 'Button text (optional)', maxlength: '64' });
  const buttonUrl = h('input', { class: 'input', id: 'bc-button-url', type: 'url', placeholder: 'https://t.me/your_bot', maxlength: '2048' });
  const count = h('span', { class: 'hint-count', id: 'bc-count' });
  const error = h('p', { class: 'field-error', id: 'bc-error', role: 'alert' });
  const checkBtn = h('button', { class: 'btn btn-secondary', type: 'button', id: 'bc-check' }, 'Check & count');
  const sendBtn = h('button', { class: 'btn btn-primary', type: 'submit', id: 'bc-send' }, 'Send broadcast');
  const preview = h('div', { class: 'bc-preview', id: 'bc-preview', 'aria-live': 'polite' });
  const progressBox = h('div', { id: 'bc-progress' });
  const historyBody = h('div', { id: 'bc-history' });

  const editor = h('form', { class: 'card', id: 'bc-form', novalidate: true },
    h('div', { class: 'card-header' }, h('h2', { class: 'card-title' }, 'New broadcast')),
    h('div', { class: 'card-body' },
      h('div', { class: 'field' }, h('div', { class: 'label-row' }, h('label', { class: 'label', for: 'bc-message' }, 'Message'), count), message),
      h('div', { class: 'grid grid-2 mt-4' },
        h('div', { class: 'field' }, h('label', { class: 'label', for: 'bc-mode' }, 'Formatting'), mode),
        h('div', { class: 'field' }, h('label', { class: 'label', for: 'bc-photo' }, 'Photo URL'), photo)),
      h('div', { class: 'grid grid-2 mt-4' },
        h('div', { class: 'field' }, h('label', { class: 'label', for: 'bc-button-text' }, 'Button'), buttonText),
        h('div', { class: 'field' }, h('label', { class: 'label', for: 'bc-button-url' }, 'Button link'), buttonUrl)),
      error),
    h('div', { class: 'card-footer' },
      h('span', { class: 'card-footer-note' }, 'Sent at up to 20 messages a second; people who blocked the bot are skipped.'),
      h('div', { class: 'card-tools' }, checkBtn, sendBtn)));

  root.append(
    h('div', { class: 'grid grid-3 mb-5' },
      h('div', { class: 'stat' }, h('div', { class: 'stat-label' }, 'Audience'), audienceValue, h('p', { class: 'col-muted' }, 'Bot users who have not blocked the bot'))),
    h('div', { class: 'bc-layout' }, editor,
      h('section', { class: 'card' }, h('div', { class: 'card-header' }, h('h2', { class: 'card-title' }, 'Preview')), h('div', { class: 'card-body' }, preview))),
    progressBox,
    h('section', { class: 'card mt-4' }, h('div', { class: 'card-header' }, h('h2', { class: 'card-title' }, 'History')), historyBody));

  function body(dryRun) {
    const b = { message: message.value, dry_run: dryRun };
    if (mode.value) b.parse_mode = mode.value;
    if (photo.value.trim()) b.photo = photo.value.trim();
    if (buttonText.value.trim() || buttonUrl.value.trim()) b.buttons = [[{ text: buttonText.value.trim(), url: buttonUrl.value.trim() }]];
    return b;
  }

  function renderPreview() {
    const text = message.value;
    const limit = photo.value.trim() ? LIMIT_CAPTION : LIMIT_TEXT;
    const length = visibleLength(text, mode.value);
    count.textContent = `${length} / ${limit}`;
    count.style.color = length > limit ? 'var(--danger)' : '';
    const bubble = h('div', { class: 'bc-bubble' });
    if (/^https?:\/\//.test(photo.value.trim())) bubble.append(h('img', { src: photo.value.trim(), alt: 'Photo', referrerpolicy: 'no-referrer' }));
    if (!text.trim()) bubble.append(h('span', { class: 'col-muted' }, 'Your message appears here.'));
    else bubble.append(mode.value === 'HTML' ? htmlPreview(text) : mode.value === 'MarkdownV2' ? markdownPreview(text) : document.createTextNode(text));
    const nodes = [bubble];
    if (buttonText.value.trim()) nodes.push(h('div', { class: 'bc-buttons' }, h('span', { class: 'bc-button' }, buttonText.value.trim())));
    clear(preview).append(...nodes);
  }
  for (const input of [message, mode, photo, buttonText, buttonUrl]) input.addEventListener('input', () => { error.textContent = ''; renderPreview(); });
  renderPreview();

  async function loadAudience() {
    try {
      const a = await get('/api/broadcast-audience', { signal: ctx.signal });
      audienceValue.textContent = a.recipients.toLocaleString();
    } catch (err) {
      if (err.name !== 'AbortError') audienceValue.textContent = '—';
    }
  }

  checkBtn.addEventListener('click', async () => {
    error.textContent = '';
    try {
      const r = await post('/api/broadcast', body(true), { signal: ctx.signal });
      toast(`Looks good: it would reach ${r.recipients.toLocaleString()} people.`, 'success');
    } catch (err) {
      if (err.name !== 'AbortError') error.textContent = err.message;
    }
  });

  editor.addEventListener('submit', async (e) => {
    e.preventDefault();
    error.textContent = '';
    let dry;
    try {
      dry = await post('/api/broadcast', body(true), { signal: ctx.signal });
    } catch (err) {
      if (err.name !== 'AbortError') error.textContent = err.message;
      return;
    }
    const ok = await confirmDialog({
      title: 'Send this broadcast?',
      text: `It goes to ${dry.recipients.toLocaleString()} people now and cannot be unsent. You can pause or cancel while it runs.`,
      confirmLabel: `Send to ${dry.recipients.toLocaleString()}`,
    });
    if (!ok) return;
    sendBtn.disabled = true;
    try {
      const key = (crypto.randomUUID && crypto.randomUUID()) || String(Date.now()) + Math.random();
      const created = await post('/api/broadcast', body(false), { signal: ctx.signal, headers: { 'Idempotency-Key': key } });
      toast('Broadcast queued.', 'success');
      watch(created.id);
      loadHistory();
    } catch (err) {
      if (err.name !== 'AbortError') error.textContent = err.message;
    } finally {
      sendBtn.disabled = false;
    }
  });

  let timer = 0;
  ctx.signal.addEventListener('abort', () => clearTimeout(timer));

  async function control(id, action) {
    try {
      const status = await post(`/api/broadcast/${encodeURIComponent(id)}/${action}`, undefined, { signal: ctx.signal });
      showProgress(status);
      if (action !== 'cancel') watch(id);
      loadHistory();
    } catch (err) {
      if (err.name !== 'AbortError') toast(err.message, 'error');
    }
  }

  function showProgress(s) {
    const open = s.status === 'queued' || s.status === 'running';
    const eta = s.eta_seconds != null && open ? ` · about ${Math.max(1, Math.round(s.eta_seconds))} s left` : '';
    const actions = [];
    if (open) actions.push(h('button', { class: 'btn btn-secondary btn-sm', type: 'button', id: 'bc-pause', onclick: () => control(s.id, 'pause') }, 'Pause'));
    if (s.status === 'paused') actions.push(h('button', { class: 'btn btn-secondary btn-sm', type: 'button', id: 'bc-resume', onclick: () => control(s.id, 'resume') }, 'Resume'));
    if (open || s.status === 'paused') actions.push(h('button', { class: 'btn btn-danger-ghost btn-sm', type: 'button', id: 'bc-cancel', onclick: async () => {
      if (await confirmDialog({ title: 'Cancel this broadcast?', text: 'People not reached yet will not get it.', confirmLabel: 'Cancel broadcast', danger: true })) control(s.id, 'cancel');
    } }, 'Cancel'));
    clear(progressBox).append(h('section', { class: 'card mt-4', id: 'bc-live', dataset: { status: s.status, progress: String(s.progress) } },
      h('div', { class: 'card-header card-header-tools' },
        h('div', {}, h('h2', { class: 'card-title' }, 'Progress'), h('p', { class: 'card-subtitle', id: 'bc-progress-text' }, `${s.progress.toFixed(0)} % · ${s.sent.toLocaleString()} of ${s.recipients.toLocaleString()} sent${eta}`)),
        h('div', { class: 'card-tools' }, badge(s.status, STATUS_TONE[s.status] || 'neutral'), actions)),
      h('div', { class: 'card-body' },
        h('div', { class: 'progress', role: 'progressbar', 'aria-valuemin': '0', 'aria-valuemax': '100', 'aria-valuenow': String(Math.round(s.progress)), 'aria-label': 'Broadcast progress' },
          h('div', { class: 'progress-fill', style: `width: ${s.progress}%` })),
        h('div', { class: 'bc-counts' },
          h('span', {}, `Sent ${s.sent}`), h('span', {}, `Blocked ${s.blocked}`), h('span', {}, `Failed ${s.failed}`),
          h('span', {}, `Pending ${s.pending + s.sending}`), s.uncertain ? h('span', {}, `Uncertain ${s.uncertain}`) : null,
          s.cancelled ? h('span', {}, `Cancelled ${s.cancelled}`) : null, h('span', {}, `${s.rate} msg/s`)),
        s.error ? h('p', { class: 'field-error' }, s.error) : null)));
  }

  async function watch(id) {
    clearTimeout(timer);
    let s;
    try {
      s = await get(`/api/broadcast-status/${encodeURIComponent(id)}`, { signal: ctx.signal });
    } catch (err) {
      if (err.name !== 'AbortError') timer = setTimeout(() => watch(id), 2000);
      return;
    }
    showProgress(s);
    if (s.status === 'queued' || s.status === 'running') timer = setTimeout(() => watch(id), 1000);
    else { loadHistory(); loadAudience(); }
  }

  async function report(id) {
    try {
      const blob = await api(`/api/broadcast-report/${encodeURIComponent(id)}`, { responseType: 'blob' });
      downloadBlob(blob, `broadcast-${id}.csv`);
    } catch (err) {
      toast(err.message, 'error');
    }
  }

  // Later reloads (a broadcast finished) keep the table in place while the new one loads.
  function loadHistory() {
    return loadInto(historyBody, () => get('/api/broadcast-jobs', { signal: ctx.signal }), showHistory, { lines: 3, frame: 'card-body', keep: true });
  }

  function showHistory(data) {
    if (!data.jobs.length) {
      clear(historyBody).append(h('div', { class: 'card-body' }, emptyState({ iconName: 'broadcast', level: 3, title: 'No broadcasts yet', text: 'Broadcasts you send show up here with their delivery report.' })));
      return;
    }
    const rows = data.jobs.map((j) => h('tr', { dataset: { id: j.id, status: j.status } },
      h('td', { class: 'col-muted hide-mobile' }, formatDate(j.created_at, { time: true })),
      h('td', { class: 'bc-history-message' }, h('span', { class: 'bars-name', title: visibleText(j.message, j.parse_mode) }, visibleText(j.message, j.parse_mode)),
        h('div', { class: 'show-mobile' }, badge(j.status, STATUS_TONE[j.status] || 'neutral'))),
      h('td', { class: 'hide-mobile' }, badge(j.status, STATUS_TONE[j.status] || 'neutral')),
      h('td', {}, `${j.sent.toLocaleString()} / ${j.recipients.toLocaleString()}`),
      h('td', { class: 'col-muted hide-mobile' }, `${j.blocked} blocked · ${j.failed} failed${j.uncertain ? ` · ${j.uncertain} uncertain` : ''}`),
      h('td', { class: 'col-actions' },
        h('button', { class: 'btn btn-ghost btn-sm', type: 'button', onclick: () => watch(j.id) }, 'Details'),
        h('button', { class: 'btn btn-ghost btn-sm', type: 'button', onclick: () => report(j.id) }, 'CSV report'))));
    clear(historyBody).append(h('div', { class: 'table-wrap' }, h('table', { class: 'table', id: 'bc-history-table' },
      h('thead', {}, h('tr', {}, h('th', { class: 'hide-mobile' }, 'Created'), h('th', {}, 'Message'), h('th', { class: 'hide-mobile' }, 'Status'), h('th', {}, 'Sent'), h('th', { class: 'hide-mobile' }, 'Other'), h('th', { class: 'col-actions' }, h('span', { class: 'sr-only' }, 'Actions')))),
      h('tbody', {}, rows))));
  }

  await Promise.all([loadAudience(), loadHistory()]);
}
