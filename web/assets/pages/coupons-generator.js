// Coupons → Generator: pick a template, type a code, see the square and portrait images rendered
// by the server (POST /api/render), download or share them. The code is checked first
// (POST /api/validate-coupon): only a valid code is rendered, downloaded or shared.
import { get, post, api, couponCodeRules } from '../api.js';
import {
  h, clear, icon, pageHeader, loadInto, emptyState, downloadBlob, readAsBase64, debounce,
} from '../ui.js';

const VARIANTS = ['square', 'portrait'];
const MAX_LOGO_BYTES = 5 * 1024 * 1024;
const LAST_KEY = 'promostack.generator.template';

function thumbVariant(t) {
  const v = t.variants || {};
  return v.square ? 'square' : v.portrait ? 'portrait' : null;
}

/** A file-name-safe version of a coupon code. */
export function fileSafe(s) {
  return String(s).trim().replace(/[^A-Za-z0-9_-]+/g, '-').replace(/^-+|-+$/g, '') || 'code';
}

export default async function render(root, ctx) {
  const urls = new Set();             // object URLs to revoke on leave
  const inflight = new Map();         // variant -> AbortController of the live preview request
  const leave = new AbortController();
  ctx.signal.addEventListener('abort', () => {
    leave.abort();
    for (const c of inflight.values()) c.abort();
  }, { once: true });
  const cleanup = () => {
    leave.abort();
    for (const c of inflight.values()) c.abort();
    schedule.cancel();
    for (const u of urls) URL.revokeObjectURL(u);
    urls.clear();
  };
  const schedule = debounce(() => checkCode(), 250);
  const track = (blob) => { const u = URL.createObjectURL(blob); urls.add(u); return u; };
  const release = (u) => { if (u && urls.delete(u)) URL.revokeObjectURL(u); };

  root.append(pageHeader({
    title: 'Generator',
    description: 'Pick a template, type a coupon code and download a ready-to-post image in square and portrait.',
    actions: ctx.canManage ? [h('a', { class: 'btn btn-secondary', href: '#coupons/templates' }, icon('templates', { size: 16 }), 'Manage templates')] : [],
  }));
  const body = h('div', { class: 'gen' });
  root.append(body);

  const loaded = await loadInto(body, () => Promise.all([get('/api/templates', { signal: ctx.signal }), couponCodeRules()]), null,
    { lines: 4, frame: 'card', retry: ctx.reload });
  if (!loaded) return cleanup;
  const templates = loaded[0].templates || [];
  const maxCode = loaded[1].maxChars;

  const usable = templates.filter((t) => thumbVariant(t));
  if (!usable.length) {
    clear(body).append(h('section', { class: 'card', id: 'gen-empty' }, emptyState({
      iconName: 'templates',
      title: 'No templates yet',
      text: 'Coupon images are drawn on a template: a background picture with a box where the code goes. Create one to start generating.',
      actions: [h('a', { class: 'btn btn-primary', href: '#coupons/templates' }, icon('plus', { size: 16 }), 'Create a template')],
    })));
    return cleanup;
  }

  // ---------- state ----------
  let stored = '';
  try { stored = localStorage.getItem(LAST_KEY) || ''; } catch { /* storage disabled */ }
  const wanted = ctx.params[0] || stored;
  let current = usable.find((t) => t.id === wanted || t.slug === wanted) || usable[0];
  let logoB64 = null;
  let logoName = '';

  // ---------- template picker ----------
  const search = h('input', {
    class: 'input', id: 'gen-search', type: 'search', placeholder: 'Search templates', autocomplete: 'off',
    'aria-label': 'Search templates',
  });
  const grid = h('div', { class: 'tpl-grid', id: 'gen-templates', role: 'listbox', 'aria-label': 'Templates' });
  const noMatch = h('p', { class: 'hint tpl-nomatch', hidden: true }, 'No template matches your search.');
  const tiles = new Map();
  for (const t of usable) {
    const img = h('img', { class: 'tpl-thumb-img', alt: '', decoding: 'async' });
    const tile = h('button', {
      class: 'tpl-tile', type: 'button', role: 'option', dataset: { id: t.id, slug: t.slug },
      'aria-selected': String(t.id === current.id),
      onclick: () => select(t),
    },
    h('span', { class: 'tpl-thumb' }, img),
    h('span', { class: 'tpl-tile-name' }, t.name),
    h('span', { class: 'tpl-tile-meta' }, VARIANTS.filter((v) => t.variants && t.variants[v]).join(' · ')));
    tiles.set(t.id, tile);
    grid.append(tile);
    loadThumb(t, img);
  }
  search.addEventListener('input', () => {
    const q = search.value.trim().toLowerCase();
    let shown = 0;
    for (const t of usable) {
      const hit = !q || t.name.toLowerCase().includes(q) || t.slug.toLowerCase().includes(q);
      tiles.get(t.id).hidden = !hit;
      if (hit) shown++;
    }
    noMatch.hidden = shown > 0;
  });

  async function loadThumb(t, img) {
    try {
      const blob = await api(`/api/templates/${encodeURIComponent(t.id)}/images/${thumbVariant(t)}`,
        { signal: leave.signal, responseType: 'blob', headers: { Accept: 'image/*' } });
      img.src = track(blob);
    } catch (err) {
      if (err.name !== 'AbortError') img.closest('.tpl-thumb').classList.add('tpl-thumb-missing');
    }
  }

  // ---------- code, logo, format ----------
  const codeInput = h('input', {
    class: 'input input-code mono', id: 'gen-code', name: 'code', maxlength: String(maxCode), autocomplete: 'off',
    autocapitalize: 'characters', spellcheck: 'false', placeholder: 'SAVE10', 'aria-describedby': 'gen-code-status gen-code-hint',
  });
  const codeCount = h('span', { class: 'hint-count', id: 'gen-code-count' }, '0/' + maxCode);
  const codeHint = h('p', { class: 'hint', id: 'gen-code-hint' });
  // The verdict on the code in the field: empty | checking | valid | invalid | error.
  const codeStatus = h('p', { class: 'code-status', id: 'gen-code-status', role: 'status', 'aria-live': 'polite', dataset: { state: 'empty' } });
  let verdict = { state: 'empty', code: '', reason: '' };
  let checkSeq = 0;

  const logoInput = h('input', { type: 'file', id: 'gen-logo', accept: 'image/png,image/jpeg,image/webp', class: 'sr-only' });
  const logoLabel = h('span', { class: 'file-name', id: 'gen-logo-name' }, 'No logo');
  const logoRemove = h('button', { class: 'btn btn-ghost btn-sm', type: 'button', id: 'gen-logo-remove', hidden: true }, 'Remove');
  const logoError = h('p', { class: 'field-error', id: 'gen-logo-error', role: 'alert' });

  const formatSelect = h('select', { class: 'select', id: 'gen-format', 'aria-label': 'File format' },
    h('option', { value: 'png' }, 'PNG — lossless'),
    h('option', { value: 'jpeg' }, 'JPEG — smaller file'));

  const controls = h('section', { class: 'card gen-controls' },
    h('div', { class: 'card-header' }, h('div', null,
      h('h2', { class: 'card-title' }, 'Coupon'),
      h('p', { class: 'card-subtitle', id: 'gen-current' }))),
    h('div', { class: 'card-body' },
      h('div', { class: 'field' },
        h('div', { class: 'label-row' }, h('label', { class: 'label', for: 'gen-code' }, 'Coupon code'), codeCount),
        codeInput, codeStatus, codeHint),
      h('div', { class: 'field' },
        h('span', { class: 'label' }, 'Logo (optional)'),
        h('div', { class: 'file-row' },
          h('label', { class: 'btn btn-secondary btn-sm', for: 'gen-logo' }, icon('plus', { size: 14 }), 'Choose image'),
          logoInput, logoLabel, logoRemove),
        h('p', { class: 'hint' }, 'PNG, JPEG or WebP. Placed in the template’s logo area.'),
        logoError),
      h('div', { class: 'field' },
        h('label', { class: 'label', for: 'gen-format' }, 'Download format'),
        formatSelect)));

  // ---------- previews ----------
  const previews = new Map();
  const previewRow = h('div', { class: 'preview-row' });
  for (const v of VARIANTS) {
    const img = h('img', { class: 'preview-img', id: 'gen-preview-' + v, alt: '' });
    const spin = h('span', { class: 'spinner preview-spinner', hidden: true, 'aria-hidden': 'true' });
    const err = h('p', { class: 'preview-error', id: 'gen-error-' + v, role: 'alert', hidden: true });
    const missing = h('p', { class: 'preview-missing hint', hidden: true }, 'This template has no ' + v + ' image.');
    const frame = h('div', { class: 'preview-frame preview-' + v }, img, spin, missing);
    const dl = h('button', { class: 'btn btn-primary btn-sm', type: 'button', id: 'gen-download-' + v, dataset: { variant: v }, onclick: () => download(v) },
      icon('download', { size: 14 }), 'Download');
    const share = h('button', { class: 'btn btn-secondary btn-sm', type: 'button', id: 'gen-share-' + v, dataset: { variant: v }, onclick: () => share_(v) },
      icon('share', { size: 14 }), 'Share');
    const fig = h('figure', { class: 'preview', dataset: { variant: v } },
      h('figcaption', { class: 'preview-head' },
        h('span', { class: 'preview-title' }, v === 'square' ? 'Square' : 'Portrait',
          h('span', { class: 'badge badge-neutral preview-sample', title: 'Type a valid coupon code to see it on the image' }, 'Background only')),
        h('span', { class: 'preview-size hint' })),
      frame, err,
      h('div', { class: 'preview-actions' }, dl, share));
    previews.set(v, { fig, img, spin, err, missing, dl, share, url: null, size: fig.querySelector('.preview-size') });
    previewRow.append(fig);
  }
  const previewCard = h('section', { class: 'card gen-previews' },
    h('div', { class: 'card-header' }, h('div', null,
      h('h2', { class: 'card-title' }, 'Preview'),
      h('p', { class: 'card-subtitle' }, 'Rendered by the same engine that serves downloads and the Telegram bot.'))),
    h('div', { class: 'card-body' }, previewRow));

  const picker = h('section', { class: 'card gen-picker' },
    h('div', { class: 'card-header' },
      h('div', null,
        h('h2', { class: 'card-title' }, 'Template'),
        h('p', { class: 'card-subtitle' }, usable.length + (usable.length === 1 ? ' template' : ' templates')))),
    h('div', { class: 'card-body' }, search, grid, noMatch));
  clear(body).append(h('div', { class: 'gen-work' }, h('div', { class: 'gen-side' }, picker, controls), previewCard));

  // ---------- behaviour ----------
  function code() { return codeInput.value.trim(); }
  /** The code may be rendered, downloaded and shared: checked valid, and still what is typed. */
  function codeOk() { return verdict.state === 'valid' && verdict.code === code(); }

  function select(t) {
    current = t;
    try { localStorage.setItem(LAST_KEY, t.id); } catch { /* ignore */ }
    for (const [id, tile] of tiles) tile.setAttribute('aria-selected', String(id === t.id));
    syncForm();
    if (codeOk()) refresh(); else showBackgrounds();
  }

  function syncForm() {
    const upper = !!(current.spec && current.spec.style && current.spec.style.uppercase);
    codeInput.classList.toggle('input-upper', upper);
    document.getElementById('gen-current').textContent = current.name;
    codeHint.textContent = (upper ? 'Printed in capitals. ' : '') + 'Letters, digits and dashes read best; up to ' + maxCode + ' characters.';
    codeCount.textContent = codeInput.value.length + '/' + maxCode;
    const hasCode = code().length > 0;
    const ok = codeOk();
    for (const b of previewRow.querySelectorAll('.preview-sample')) b.hidden = hasCode;
    const why = ok ? '' : !hasCode ? 'Type a coupon code first' : verdict.state === 'checking' ? 'Checking the code…' : verdict.reason || 'Type a valid coupon code first';
    for (const [v, p] of previews) {
      const has = !!(current.variants && current.variants[v]);
      p.fig.classList.toggle('preview-absent', !has);
      p.missing.hidden = has;
      p.img.hidden = !has;
      p.dl.disabled = !has || !ok;
      p.share.disabled = !has || !ok;
      p.dl.title = why;
      p.share.title = why;
      p.fig.classList.toggle('preview-stale', hasCode && !ok);
      const dims = has ? current.variants[v] : null;
      p.size.textContent = dims && dims.width ? dims.width + ' × ' + dims.height : '';
      if (!has) { p.err.hidden = true; p.spin.hidden = true; }
    }
  }

  function renderBody(v, format) {
    const b = { template: current.id, variant: v, code: code(), format };
    if (logoB64) b.logo = logoB64;
    return b;
  }

  async function previewOne(v) {
    const p = previews.get(v);
    const prev = inflight.get(v);
    if (prev) prev.abort();
    if (!(current.variants && current.variants[v])) return;
    const ctl = new AbortController();
    inflight.set(v, ctl);
    p.spin.hidden = false;
    p.fig.classList.add('preview-busy');
    try {
      const blob = await api('/api/render', { method: 'POST', body: renderBody(v, 'png'), signal: ctl.signal, responseType: 'blob', headers: { Accept: 'image/*' } });
      const url = track(blob);
      // Decode off-screen first so the visible image is swapped only when the new one is ready.
      const probe = new Image();
      probe.src = url;
      await probe.decode();
      if (ctl.signal.aborted) { release(url); return; }
      const old = p.url;
      p.img.src = url;
      p.url = url;
      p.img.alt = (v === 'square' ? 'Square' : 'Portrait') + ' coupon image with the code ' + code();
      p.img.dataset.code = code();
      p.img.dataset.templateId = current.id;
      release(old);
      p.err.hidden = true;
      p.err.textContent = '';
      p.fig.classList.remove('preview-failed');
    } catch (err) {
      if (err.name === 'AbortError' || ctl.signal.aborted) return;
      p.err.textContent = err.message || 'The preview could not be rendered.';
      p.err.hidden = false;
      p.fig.classList.add('preview-failed');
    } finally {
      if (inflight.get(v) === ctl) {
        inflight.delete(v);
        p.spin.hidden = true;
        p.fig.classList.remove('preview-busy');
      }
    }
  }

  function refresh() { for (const v of VARIANTS) previewOne(v); }

  /** With no code typed, the previews show the plain backgrounds (nothing is rendered). */
  async function showBackgrounds() {
    for (const v of VARIANTS) {
      const p = previews.get(v);
      const prev = inflight.get(v);
      if (prev) prev.abort();
      if (!(current.variants && current.variants[v])) continue;
      const ctl = new AbortController();
      inflight.set(v, ctl);
      try {
        const blob = await api(`/api/templates/${encodeURIComponent(current.id)}/images/${v}`,
          { signal: ctl.signal, responseType: 'blob', headers: { Accept: 'image/*' } });
        if (ctl.signal.aborted) continue;
        const url = track(blob);
        const old = p.url;
        p.img.src = url;
        p.url = url;
        p.img.alt = (v === 'square' ? 'Square' : 'Portrait') + ' background of ' + current.name;
        p.img.dataset.code = '';
        p.img.dataset.templateId = current.id;
        release(old);
        p.err.hidden = true;
        p.fig.classList.remove('preview-failed');
      } catch (err) {
        if (err.name === 'AbortError' || ctl.signal.aborted) continue;
        p.err.textContent = err.message;
        p.err.hidden = false;
      } finally {
        if (inflight.get(v) === ctl) inflight.delete(v);
      }
    }
  }

  function setVerdict(next) {
    verdict = next;
    codeStatus.dataset.state = next.state;
    codeInput.setAttribute('aria-invalid', String(next.state === 'invalid'));
    const text = next.state === 'checking' ? 'Checking ' + next.code + '…' : next.reason;
    const tone = { valid: 'check', invalid: 'close', error: 'alert' }[next.state];
    clear(codeStatus).append(...(tone && text ? [icon(tone, { size: 14 }), h('span', null, text)] : text ? [h('span', null, text)] : []));
    syncForm();
  }

  /** Ask the server whether the typed code may be used; render it when it may. */
  async function checkCode() {
    const c = code();
    const seq = ++checkSeq;
    if (!c) { setVerdict({ state: 'empty', code: '', reason: '' }); showBackgrounds(); return; }
    setVerdict({ state: 'checking', code: c, reason: '' });
    try {
      const res = await post('/api/validate-coupon', { code: c }, { signal: leave.signal });
      if (seq !== checkSeq) return;
      // "unverified": accepted while the coupon CRM is unreachable (the workspace fails open).
      const state = res.valid ? 'valid' : 'invalid';
      setVerdict({ state, code: c, reason: res.reason, unverified: res.code === 'unverified', discount: res.discount });
      codeStatus.classList.toggle('code-status-warn', res.code === 'unverified');
      if (res.valid) refresh();
    } catch (err) {
      if (err.name === 'AbortError' || seq !== checkSeq) return;
      // 422: not a well-formed code; anything else: we could not ask.
      setVerdict({ state: err.status === 422 ? 'invalid' : 'error', code: c, reason: err.message });
    }
  }

  codeInput.addEventListener('input', () => {
    if (code() !== verdict.code) { checkSeq++; setVerdict({ state: code() ? 'checking' : 'empty', code: code(), reason: '' }); }
    syncForm();
    schedule();
  });
  codeInput.addEventListener('keydown', (e) => { if (e.key === 'Enter') { e.preventDefault(); schedule.cancel(); checkCode(); } });

  logoInput.addEventListener('change', async () => {
    logoError.textContent = '';
    const file = logoInput.files && logoInput.files[0];
    if (!file) return;
    if (!/^image\/(png|jpeg|webp)$/.test(file.type)) { logoError.textContent = 'Choose a PNG, JPEG or WebP image.'; logoInput.value = ''; return; }
    if (file.size > MAX_LOGO_BYTES) { logoError.textContent = 'That file is larger than 5 MB.'; logoInput.value = ''; return; }
    try {
      logoB64 = await readAsBase64(file);
      logoName = file.name;
    } catch (err) {
      logoError.textContent = err.message;
      return;
    }
    logoLabel.textContent = logoName;
    logoRemove.hidden = false;
    if (codeOk()) refresh();
  });
  logoRemove.addEventListener('click', () => {
    logoB64 = null; logoName = ''; logoInput.value = '';
    logoLabel.textContent = 'No logo';
    logoRemove.hidden = true;
    if (codeOk()) refresh();
  });

  async function fetchImage(v) {
    const format = formatSelect.value;
    const blob = await api('/api/render', { method: 'POST', body: renderBody(v, format), signal: leave.signal, responseType: 'blob', headers: { Accept: 'image/*' } });
    const ext = format === 'jpeg' ? 'jpg' : format;
    const name = `${current.slug}-${fileSafe(code())}-${v}.${ext}`;
    return { blob, name, type: blob.type || (format === 'jpeg' ? 'image/jpeg' : 'image/png') };
  }

  async function withBusy(btn, fn) {
    btn.disabled = true;
    btn.classList.add('is-busy');
    try { await fn(); } catch (err) {
      if (err.name !== 'AbortError') ctx.toast(err.message || 'Something went wrong.', 'error');
    } finally {
      btn.classList.remove('is-busy');
      syncForm();
    }
  }

  function download(v) {
    return withBusy(previews.get(v).dl, async () => {
      const { blob, name } = await fetchImage(v);
      downloadBlob(blob, name);
    });
  }

  function share_(v) {
    return withBusy(previews.get(v).share, async () => {
      const { blob, name, type } = await fetchImage(v);
      const file = new File([blob], name, { type });
      if (navigator.canShare && navigator.share && navigator.canShare({ files: [file] })) {
        try {
          await navigator.share({ files: [file], title: current.name, text: code() });
        } catch (err) {
          if (err.name !== 'AbortError') throw err; // the user closed the share sheet
        }
      } else {
        downloadBlob(blob, name);
        ctx.toast('Sharing is not available in this browser, so the image was downloaded.', 'info');
      }
    });
  }

  syncForm();
  checkCode();
  const sel = tiles.get(current.id);
  if (sel && sel.scrollIntoView) sel.scrollIntoView({ block: 'nearest' });
  return cleanup;
}
