// Coupons → Templates: the list (Telegram toggle, bulk delete, export, import, create) at
// #coupons/templates and the box editor at #coupons/templates/<id>.
import { get, post, put, del, api, couponCodeRules } from '../api.js';
import {
  h, clear, icon, pageHeader, loadInto, errorState, emptyState, badge, confirmDialog, formatDate,
  downloadBlob, debounce,
} from '../ui.js';

const VARIANTS = ['square', 'portrait'];
const LABEL = { square: 'Square', portrait: 'Portrait' };
const GRID = 8;          // snapping grid, image pixels
const SNAP_PX = 8;       // snapping distance to edges / centre lines, screen pixels
const HANDLE_PX = 7;     // half size of a resize handle, screen pixels
const MIN_BOX = 8;       // smallest box side, image pixels
const IMAGE_TYPES = 'image/png,image/jpeg,image/webp';

const enc = encodeURIComponent;
const imageOpts = (signal) => ({ signal, responseType: 'blob', headers: { Accept: 'image/*' } });

export default async function render(root, ctx) {
  if (ctx.params[0]) return editorView(root, ctx, ctx.params[0]);
  return listView(root, ctx);
}

// =====================================================================================
// List
// =====================================================================================

async function listView(root, ctx) {
  const urls = [];
  const cleanup = () => { for (const u of urls) URL.revokeObjectURL(u); };

  const importInput = h('input', { type: 'file', id: 'tpl-import-file', accept: '.zip,application/zip', class: 'sr-only' });
  const newBtn = h('button', { class: 'btn btn-primary', type: 'button', id: 'tpl-new' }, icon('plus', { size: 16 }), 'New template');
  root.append(pageHeader({
    title: 'Templates',
    description: 'Background images with a box where the coupon code goes. The Telegram bot offers the templates marked ✓.',
    actions: ctx.canManage ? [
      h('label', { class: 'btn btn-secondary', for: 'tpl-import-file', id: 'tpl-import' }, icon('upload', { size: 16 }), 'Import .zip'),
      importInput, newBtn,
    ] : [],
  }));
  const createHost = h('div');
  const body = h('div');
  root.append(createHost, body);

  newBtn.addEventListener('click', () => {
    if (createHost.firstChild) { createHost.querySelector('input').focus(); return; }
    createHost.append(createForm(ctx, () => clear(createHost)));
    createHost.querySelector('input').focus();
  });

  importInput.addEventListener('change', async () => {
    const file = importInput.files && importInput.files[0];
    importInput.value = '';
    if (!file) return;
    try {
      const t = await api('/api/templates/import', { method: 'POST', body: file, headers: { 'Content-Type': 'application/zip' } });
      ctx.toast('Imported “' + t.name + '”.', 'success');
      ctx.navigate('#coupons/templates/' + enc(t.id));
    } catch (err) {
      ctx.toast('Import failed: ' + err.message, 'error');
    }
  });

  let templates = [];
  const selected = new Set();

  function load() {
    return loadInto(body, () => get('/api/templates', { signal: ctx.signal }), (data) => {
      templates = data.templates || [];
      for (const id of [...selected]) if (!templates.some((t) => t.id === id)) selected.delete(id);
      draw();
    }, { lines: 4, frame: 'card' });
  }

  const selectAll = h('input', { type: 'checkbox', id: 'tpl-select-all', class: 'checkbox', 'aria-label': 'Select all templates' });
  const selCount = h('span', { class: 'bulk-count', id: 'tpl-selected-count' });
  const bulkDelete = h('button', { class: 'btn btn-danger-ghost btn-sm', type: 'button', id: 'tpl-bulk-delete', disabled: true }, icon('trash', { size: 14 }), 'Delete selected');
  selectAll.addEventListener('change', () => {
    if (selectAll.checked) templates.forEach((t) => selected.add(t.id)); else selected.clear();
    for (const cb of body.querySelectorAll('.tpl-card-check')) cb.checked = selectAll.checked;
    for (const c of body.querySelectorAll('.tpl-card')) c.classList.toggle('is-selected', selectAll.checked);
    syncBulk();
  });
  bulkDelete.addEventListener('click', async () => {
    const ids = [...selected];
    if (!ids.length) return;
    const names = templates.filter((t) => selected.has(t.id)).map((t) => t.name);
    const ok = await confirmDialog({
      title: ids.length === 1 ? 'Delete this template?' : 'Delete ' + ids.length + ' templates?',
      text: names.slice(0, 5).join(', ') + (names.length > 5 ? ' and ' + (names.length - 5) + ' more' : '') +
        '. Their images are removed and the Telegram bot stops offering them. This cannot be undone.',
      confirmLabel: 'Delete', danger: true,
    });
    if (!ok) return;
    try {
      const res = await post('/api/templates/bulk-delete', { ids });
      ctx.toast((res && typeof res.deleted === 'number' ? res.deleted : ids.length) + ' deleted.', 'success');
      selected.clear();
      load();
    } catch (err) {
      ctx.toast(err.message, 'error');
    }
  });

  function syncBulk() {
    const n = selected.size;
    selCount.textContent = n ? n + ' selected' : templates.length + (templates.length === 1 ? ' template' : ' templates');
    bulkDelete.disabled = n === 0;
    selectAll.checked = n > 0 && n === templates.length;
    selectAll.indeterminate = n > 0 && n < templates.length;
  }

  function draw() {
    if (!templates.length) {
      clear(body).append(h('section', { class: 'card', id: 'tpl-empty' }, emptyState({
        iconName: 'templates',
        title: 'No templates yet',
        text: 'Upload a square and/or portrait background, then draw where the coupon code goes.',
        actions: ctx.canManage ? [h('button', { class: 'btn btn-primary', type: 'button', onclick: () => newBtn.click() }, icon('plus', { size: 16 }), 'New template')] : [],
      })));
      return;
    }
    const grid = h('div', { class: 'tpl-cards', id: 'tpl-list' });
    for (const t of templates) grid.append(card(t));
    clear(body).append(h('section', { class: 'card' },
      h('div', { class: 'card-header card-header-tools' },
        h('label', { class: 'bulk-select' }, ctx.canManage ? selectAll : null, selCount),
        ctx.canManage ? h('div', { class: 'card-tools' }, bulkDelete) : null),
      h('div', { class: 'card-body' }, grid)));
    syncBulk();
  }

  function card(t) {
    const variant = t.variants && t.variants.square ? 'square' : t.variants && t.variants.portrait ? 'portrait' : null;
    const img = h('img', { class: 'tpl-thumb-img', alt: '' });
    const thumb = h('a', { class: 'tpl-thumb', href: '#coupons/templates/' + enc(t.id), 'aria-label': 'Edit ' + t.name }, img);
    if (variant) {
      api(`/api/templates/${enc(t.id)}/images/${variant}`, imageOpts(ctx.signal))
        .then((b) => { const u = URL.createObjectURL(b); urls.push(u); img.src = u; })
        .catch((err) => { if (err.name !== 'AbortError') thumb.classList.add('tpl-thumb-missing'); });
    } else thumb.classList.add('tpl-thumb-missing');

    const check = h('input', { type: 'checkbox', class: 'checkbox tpl-card-check', 'aria-label': 'Select ' + t.name, checked: selected.has(t.id) });
    const tg = h('button', {
      class: 'tg-toggle', type: 'button', dataset: { id: t.id }, 'aria-pressed': String(!!t.telegramEnabled),
      title: t.telegramEnabled ? 'Offered by the Telegram bot — click to hide' : 'Hidden from the Telegram bot — click to offer',
      disabled: !ctx.canManage,
    });
    const el = h('article', { class: 'tpl-card' + (selected.has(t.id) ? ' is-selected' : ''), dataset: { id: t.id, slug: t.slug } },
      thumb,
      h('div', { class: 'tpl-card-body' },
        h('div', { class: 'tpl-card-row' },
          ctx.canManage ? check : null,
          h('a', { class: 'tpl-card-name', href: '#coupons/templates/' + enc(t.id) }, t.name),
          t.hasLogo ? badge('Logo', 'neutral') : null),
        h('div', { class: 'tpl-card-meta' },
          h('span', { class: 'mono' }, t.slug), h('span', null, '·'),
          h('span', null, VARIANTS.filter((v) => t.variants && t.variants[v]).map((v) => LABEL[v]).join(' + ') || 'No images')),
        h('div', { class: 'tpl-card-meta' }, 'Version ' + t.version + ' · updated ' + formatDate(t.updatedAt)),
        h('div', { class: 'tpl-card-row tpl-card-actions' },
          tg,
          h('a', { class: 'btn btn-ghost btn-sm tpl-card-edit', href: '#coupons/templates/' + enc(t.id) }, 'Edit'),
          h('button', { class: 'btn-icon btn-icon-sm', type: 'button', 'aria-label': 'Export ' + t.name + ' as .zip', title: 'Export .zip', dataset: { export: t.id }, onclick: () => exportZip(t) }, icon('download', { size: 16 })))));
    paintToggle(tg, !!t.telegramEnabled);
    check.addEventListener('change', () => {
      if (check.checked) selected.add(t.id); else selected.delete(t.id);
      el.classList.toggle('is-selected', check.checked);
      syncBulk();
    });
    tg.addEventListener('click', async () => {
      const next = tg.getAttribute('aria-pressed') !== 'true';
      tg.disabled = true;
      paintToggle(tg, next); // optimistic
      try {
        const updated = await post('/api/toggle-telegram-template', { id: t.id, enabled: next });
        Object.assign(t, updated);
        paintToggle(tg, !!updated.telegramEnabled);
        ctx.toast(`“${t.name}” is ${updated.telegramEnabled ? 'now offered' : 'no longer offered'} in Telegram.`, 'success');
      } catch (err) {
        paintToggle(tg, !next);
        ctx.toast(err.message, 'error');
      } finally {
        tg.disabled = false;
      }
    });
    return el;
  }

  async function exportZip(t) {
    try {
      const blob = await api(`/api/templates/${enc(t.id)}/export`, { signal: ctx.signal, responseType: 'blob', headers: { Accept: 'application/zip' } });
      downloadBlob(blob, t.slug + '.zip');
    } catch (err) {
      if (err.name !== 'AbortError') ctx.toast('Export failed: ' + err.message, 'error');
    }
  }

  await load();
  return cleanup;
}

function paintToggle(btn, on) {
  btn.setAttribute('aria-pressed', String(on));
  btn.classList.toggle('is-on', on);
  clear(btn).append(h('span', { class: 'tg-mark', 'aria-hidden': 'true' }, on ? '✓' : '✗'), 'Telegram');
  btn.setAttribute('aria-label', 'Telegram: ' + (on ? 'offered' : 'hidden'));
}

function fileField(id, labelText, hint) {
  const input = h('input', { type: 'file', id, name: id, accept: IMAGE_TYPES, class: 'sr-only' });
  const name = h('span', { class: 'file-name' }, 'No file chosen');
  input.addEventListener('change', () => { name.textContent = input.files && input.files[0] ? input.files[0].name : 'No file chosen'; });
  return {
    input,
    node: h('div', { class: 'field' },
      h('span', { class: 'label' }, labelText),
      h('div', { class: 'file-row' }, h('label', { class: 'btn btn-secondary btn-sm', for: id }, icon('plus', { size: 14 }), 'Choose image'), input, name),
      hint ? h('p', { class: 'hint' }, hint) : null),
  };
}

function createForm(ctx, close) {
  const name = h('input', { class: 'input', id: 'tpl-new-name', name: 'name', maxlength: '80', required: true, placeholder: 'Black Friday', autocomplete: 'off' });
  const sq = fileField('tpl-new-square', 'Square image', 'For feeds, 1080 × 1080 recommended.');
  const po = fileField('tpl-new-portrait', 'Portrait image', 'For stories, 1080 × 1350 or 1080 × 1920.');
  const logo = fileField('tpl-new-logo', 'Logo (optional)', 'Drawn in the logo box you place later.');
  const error = h('p', { class: 'field-error', id: 'tpl-new-error', role: 'alert' });
  const submit = h('button', { class: 'btn btn-primary', type: 'submit', id: 'tpl-new-submit' }, 'Create and edit');
  const form = h('form', { class: 'card mb-5', id: 'tpl-new-form', novalidate: true },
    h('div', { class: 'card-header' }, h('div', null,
      h('h2', { class: 'card-title' }, 'New template'),
      h('p', { class: 'card-subtitle' }, 'Upload at least one background. You draw the code box next.'))),
    h('div', { class: 'card-body' },
      h('div', { class: 'field' }, h('label', { class: 'label', for: 'tpl-new-name' }, 'Name'), name),
      h('div', { class: 'grid grid-3 mt-4' }, sq.node, po.node, logo.node),
      error),
    h('div', { class: 'card-footer' },
      h('span', { class: 'card-footer-note' }, 'PNG, JPEG or WebP.'),
      h('button', { class: 'btn btn-ghost', type: 'button', onclick: close }, 'Cancel'),
      submit));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    error.textContent = '';
    name.removeAttribute('aria-invalid');
    const file = (f) => f.input.files && f.input.files[0];
    if (!name.value.trim()) { error.textContent = 'Give the template a name.'; name.setAttribute('aria-invalid', 'true'); name.focus(); return; }
    if (!file(sq) && !file(po)) { error.textContent = 'Choose a square or a portrait image (or both).'; return; }
    const fd = new FormData();
    fd.append('name', name.value.trim());
    if (file(sq)) fd.append('square', file(sq));
    if (file(po)) fd.append('portrait', file(po));
    if (file(logo)) fd.append('logo', file(logo));
    submit.disabled = true;
    try {
      const t = await post('/api/templates', fd);
      ctx.toast('Template created. Draw the box where the code goes.', 'success');
      ctx.navigate('#coupons/templates/' + enc(t.id));
    } catch (err) {
      error.textContent = err.message;
      submit.disabled = false;
    }
  });
  return form;
}

// =====================================================================================
// Editor
// =====================================================================================

function clone(o) { return JSON.parse(JSON.stringify(o)); }
const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));

function normaliseSpec(t) {
  const spec = clone(t.spec || {});
  spec.name = spec.name || t.name;
  spec.slug = spec.slug || t.slug;
  spec.style = Object.assign({ color: '#FFFFFF', strokeColor: '#000000', strokeWidth: 0.06, align: 'center', maxFontSize: 240, uppercase: true }, spec.style || {});
  spec.variants = spec.variants || {};
  return spec;
}

async function editorView(root, ctx, id) {
  const leave = new AbortController();
  let previewCtl = null;             // the live preview request in flight
  ctx.signal.addEventListener('abort', () => { leave.abort(); if (previewCtl) previewCtl.abort(); }, { once: true });
  const urls = new Set();
  let ro = null;
  const cleanup = () => {
    leave.abort();
    if (previewCtl) previewCtl.abort();
    schedulePreview.cancel();
    if (ro) ro.disconnect();
    for (const u of urls) URL.revokeObjectURL(u);
  };
  const schedulePreview = debounce(() => preview(), 250);

  const back = h('a', { class: 'btn btn-ghost btn-sm back-link', href: '#coupons/templates' }, icon('arrowLeft', { size: 16 }), 'All templates');
  root.append(back);
  const header = h('div');
  const body = h('div');
  root.append(header, body);

  const loaded = await loadInto(body, () => Promise.all([get('/api/templates/' + enc(id), { signal: ctx.signal }), couponCodeRules()]), null, {
    lines: 6,
    frame: 'card',
    error: (err, retry) => {
      header.append(pageHeader({ title: 'Template' }));
      return h('section', { class: 'card' }, err.status === 404
        ? emptyState({ iconName: 'templates', title: 'Template not found', text: 'It may have been deleted.', actions: [h('a', { class: 'btn btn-secondary', href: '#coupons/templates' }, 'Back to templates')] })
        : errorState(err.message, retry));
    },
    retry: ctx.reload,
  });
  if (!loaded) return cleanup;
  let t = loaded[0];
  const rules = loaded[1];

  // ---------- state ----------
  let spec = normaliseSpec(t);
  let savedJson = JSON.stringify(spec);
  let variant = VARIANTS.find((v) => spec.variants[v]) || 'square';
  let mode = 'text';                       // which box a new drag draws: 'text' | 'logo'
  let active = 'text';                     // box that keyboard nudges / handles act on
  const images = {};                       // variant -> HTMLImageElement
  let drag = null;                         // current pointer interaction
  let guides = [];                         // snapped guide lines to draw: {axis:'x'|'y', at}

  const saveBtn = h('button', { class: 'btn btn-primary', type: 'button', id: 'ed-save', disabled: !ctx.canManage }, icon('check', { size: 16 }), 'Save');
  const dirtyBadge = h('span', { class: 'badge badge-warning', id: 'ed-dirty', hidden: true }, 'Unsaved changes');
  const versionNote = h('span', { class: 'hint', id: 'ed-version' });
  header.append(pageHeader({
    title: t.name,
    description: 'Drag on the image to draw the box where the code goes. Boxes snap to the edges, centre lines and an 8 px grid (hold Alt to place freely); arrow keys nudge the selected box (Shift: 10 px).',
    actions: [dirtyBadge, saveBtn],
  }));
  const titleEl = header.querySelector('h1');

  // ---------- canvas ----------
  const canvas = h('canvas', { class: 'ed-canvas', id: 'ed-canvas', tabindex: '0', 'aria-label': 'Template image. Drag to draw a box; arrow keys move the selected box, Shift moves 10 pixels.' });
  const stage = h('div', { class: 'ed-stage checker' }, canvas);
  const stageMsg = h('div', { class: 'ed-stage-msg' });
  stage.append(stageMsg);
  const readout = h('span', { class: 'ed-readout mono', id: 'ed-readout' });
  const tabs = h('div', { class: 'seg', role: 'tablist', 'aria-label': 'Variant' });
  const tabBtns = {};
  for (const v of VARIANTS) {
    tabBtns[v] = h('button', { class: 'seg-btn', type: 'button', role: 'tab', id: 'ed-tab-' + v, dataset: { variant: v }, onclick: () => setVariant(v) }, LABEL[v]);
    tabs.append(tabBtns[v]);
  }
  const modeBtns = {
    text: h('button', { class: 'seg-btn', type: 'button', id: 'ed-mode-text', 'aria-pressed': 'true', onclick: () => setMode('text') }, 'Text box'),
    logo: h('button', { class: 'seg-btn', type: 'button', id: 'ed-mode-logo', 'aria-pressed': 'false', onclick: () => setMode('logo') }, 'Logo box'),
  };
  const removeLogoBox = h('button', { class: 'btn btn-ghost btn-sm', type: 'button', id: 'ed-logo-box-remove', onclick: () => { delete vspec().logo; active = 'text'; changed(); } }, 'Remove logo box');
  const bgInput = h('input', { type: 'file', id: 'ed-bg-file', accept: IMAGE_TYPES, class: 'sr-only' });
  const bgLabel = h('label', { class: 'btn btn-ghost btn-sm', for: 'ed-bg-file', id: 'ed-bg-label' }, 'Replace image');

  const canvasCard = h('section', { class: 'card ed-canvas-card' },
    h('div', { class: 'card-header card-header-tools' },
      tabs,
      h('div', { class: 'card-tools' }, h('div', { class: 'seg', 'aria-label': 'Draw' }, modeBtns.text, modeBtns.logo))),
    h('div', { class: 'ed-stage-wrap' }, stage),
    h('div', { class: 'card-footer ed-footer' },
      readout,
      removeLogoBox, bgLabel, bgInput));

  // ---------- side panel ----------
  const nameInput = h('input', { class: 'input', id: 'ed-name', maxlength: '80', value: spec.name, autocomplete: 'off' });
  const colorFill = colorControl('ed-color', 'Fill', () => spec.style.color, (v) => { spec.style.color = v; });
  const colorStroke = colorControl('ed-stroke-color', 'Outline', () => spec.style.strokeColor, (v) => { spec.style.strokeColor = v; });
  const strokeRange = h('input', { type: 'range', class: 'range', id: 'ed-stroke-width', min: '0', max: '0.3', step: '0.01', value: String(spec.style.strokeWidth) });
  const strokeOut = h('output', { class: 'mono range-out', for: 'ed-stroke-width' });
  const alignSel = h('div', { class: 'seg', role: 'radiogroup', 'aria-label': 'Alignment', id: 'ed-align' });
  for (const a of ['left', 'center', 'right']) {
    alignSel.append(h('button', { class: 'seg-btn', type: 'button', role: 'radio', dataset: { align: a }, onclick: () => { spec.style.align = a; changed(); } }, a[0].toUpperCase() + a.slice(1)));
  }
  const maxFont = h('input', { class: 'input', id: 'ed-max-font', type: 'number', min: '8', max: '2000', step: '1', value: String(spec.style.maxFontSize) });
  const maxLines = h('select', { class: 'select', id: 'ed-max-lines' },
    h('option', { value: '1' }, '1 line'), h('option', { value: '2' }, 'Up to 2 lines'), h('option', { value: '3' }, 'Up to 3 lines'));
  const upper = h('input', { type: 'checkbox', class: 'checkbox', id: 'ed-uppercase' });

  const logoInput = h('input', { type: 'file', id: 'ed-logo-file', accept: IMAGE_TYPES, class: 'sr-only' });
  const logoStatus = h('span', { class: 'file-name', id: 'ed-logo-status' });
  const logoRemove = h('button', { class: 'btn btn-danger-ghost btn-sm', type: 'button', id: 'ed-logo-remove' }, 'Remove logo');
  const logoImg = h('img', { class: 'ed-logo-thumb checker', alt: 'Current logo', hidden: true });
  logoImg.addEventListener('load', () => draw());

  const sample = h('input', { class: 'input mono', id: 'ed-sample', maxlength: String(rules.maxChars), value: 'SAVE20', autocomplete: 'off', spellcheck: 'false' });
  const previewImg = h('img', { class: 'preview-img', id: 'ed-preview', alt: '' });
  const previewSpin = h('span', { class: 'spinner preview-spinner', hidden: true, 'aria-hidden': 'true' });
  const previewFrame = h('div', { class: 'preview-frame' }, previewImg, previewSpin);
  const previewErr = h('p', { class: 'preview-error', id: 'ed-preview-error', role: 'alert', hidden: true });

  const side = h('div', { class: 'ed-side' },
    h('section', { class: 'card ed-preview-card' },
      h('div', { class: 'card-header' }, h('div', null,
        h('h2', { class: 'card-title' }, 'Live preview'),
        h('p', { class: 'card-subtitle' }, 'Rendered by the server with your unsaved changes.'))),
      h('div', { class: 'card-body' },
        h('div', { class: 'field' }, h('label', { class: 'label', for: 'ed-sample' }, 'Sample code'), sample),
        h('div', { class: 'mt-4' }, previewFrame), previewErr)),
    h('section', { class: 'card' },
      h('div', { class: 'card-header' }, h('h2', { class: 'card-title' }, 'Text style')),
      h('div', { class: 'card-body' },
        h('div', { class: 'field' }, h('label', { class: 'label', for: 'ed-name' }, 'Template name'), nameInput,
          h('p', { class: 'hint' }, 'Slug ', h('span', { class: 'mono' }, t.slug), ' · ', versionNote)),
        h('div', { class: 'grid grid-2 mt-4' }, colorFill.node, colorStroke.node),
        h('div', { class: 'field mt-4' },
          h('div', { class: 'label-row' }, h('label', { class: 'label', for: 'ed-stroke-width' }, 'Outline width'), strokeOut),
          strokeRange, h('p', { class: 'hint' }, 'A fraction of the font size (0 – 0.3).')),
        h('div', { class: 'field mt-4' }, h('span', { class: 'label' }, 'Alignment'), alignSel),
        h('div', { class: 'grid grid-2 mt-4' },
          h('div', { class: 'field' }, h('label', { class: 'label', for: 'ed-max-font' }, 'Max font size'), maxFont),
          h('div', { class: 'field' }, h('label', { class: 'label', for: 'ed-max-lines' }, 'Lines'), maxLines)),
        h('label', { class: 'check-row mt-4', for: 'ed-uppercase' }, upper, 'Print the code in capitals'))),
    h('section', { class: 'card' },
      h('div', { class: 'card-header' }, h('h2', { class: 'card-title' }, 'Logo')),
      h('div', { class: 'card-body' },
        h('div', { class: 'file-row' }, logoImg,
          h('label', { class: 'btn btn-secondary btn-sm', for: 'ed-logo-file' }, icon('plus', { size: 14 }), 'Upload logo'),
          logoInput, logoStatus, logoRemove),
        h('p', { class: 'hint mt-4' }, 'Scaled to fit the logo box of each variant. Draw the box with “Logo box”.'))));

  clear(body).append(h('div', { class: 'ed-layout' }, canvasCard, side));

  // ---------- helpers ----------
  function vspec() { return spec.variants[variant]; }
  function box(kind) { const v = vspec(); return v ? v[kind] : null; }
  function imgSize() {
    const img = images[variant];
    if (img && img.naturalWidth) return { w: img.naturalWidth, h: img.naturalHeight };
    const d = t.variants && t.variants[variant];
    return d ? { w: d.width, h: d.height } : { w: 1080, h: 1080 };
  }
  function isDirty() { return JSON.stringify(spec) !== savedJson; }

  function syncControls() {
    nameInput.value === spec.name || (nameInput.value = spec.name);
    colorFill.sync(); colorStroke.sync();
    strokeRange.value = String(spec.style.strokeWidth);
    strokeOut.textContent = Number(spec.style.strokeWidth).toFixed(2);
    for (const b of alignSel.children) b.setAttribute('aria-checked', String(b.dataset.align === spec.style.align));
    if (document.activeElement !== maxFont) maxFont.value = String(spec.style.maxFontSize);
    maxLines.value = String(spec.style.maxLines || 1);
    upper.checked = !!spec.style.uppercase;
    for (const v of VARIANTS) {
      tabBtns[v].setAttribute('aria-selected', String(v === variant));
      tabBtns[v].classList.toggle('seg-missing', !spec.variants[v]);
    }
    for (const m of ['text', 'logo']) modeBtns[m].setAttribute('aria-pressed', String(m === mode));
    removeLogoBox.hidden = !box('logo');
    bgLabel.textContent = spec.variants[variant] ? 'Replace image' : 'Upload ' + variant + ' image';
    logoStatus.textContent = t.hasLogo ? 'Logo uploaded' : 'No logo';
    logoImg.hidden = !t.hasLogo || !logoImg.getAttribute('src');
    logoRemove.hidden = !t.hasLogo;
    const dirty = isDirty();
    dirtyBadge.hidden = !dirty;
    saveBtn.disabled = !ctx.canManage || !dirty;
    versionNote.textContent = 'version ' + t.version;
    const b = box(active);
    readout.textContent = b ? `${active === 'text' ? 'Text' : 'Logo'} box  x ${b.x}  y ${b.y}  ${b.width} × ${b.height}` : (mode === 'logo' ? 'Drag to draw the logo box' : 'Drag to draw the text box');
  }

  function changed({ previewNow = false } = {}) {
    syncControls();
    draw();
    if (previewNow) { schedulePreview.cancel(); preview(); } else schedulePreview();
  }

  function setVariant(v) {
    variant = v;
    if (!box(active)) active = 'text';
    syncControls();
    loadImage(v);
    draw();
    schedulePreview.cancel();
    preview();
  }
  function setMode(m) { mode = m; if (box(m)) active = m; syncControls(); draw(); canvas.focus(); }

  // ---------- background images ----------
  async function loadImage(v) {
    if (images[v] || !spec.variants[v]) { draw(); return; }
    stageMsg.textContent = 'Loading image…';
    try {
      const blob = await api(`/api/templates/${enc(t.id)}/images/${v}?v=${t.version}`, imageOpts(leave.signal));
      const url = URL.createObjectURL(blob); urls.add(url);
      const img = new Image();
      img.src = url;
      await img.decode();
      images[v] = img;
    } catch (err) {
      if (err.name === 'AbortError') return;
      if (v === variant) stageMsg.textContent = 'The image could not be loaded: ' + err.message;
      return;
    }
    if (v === variant) draw();
  }

  // ---------- drawing ----------
  function layout() {
    const { w, h: ih } = imgSize();
    const wrap = stage.parentElement;
    const cs = getComputedStyle(wrap);
    const wrapW = Math.max(160, wrap.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight));
    const maxH = Math.max(300, Math.min(600, window.innerHeight - 380));
    const scale = Math.min(wrapW / w, maxH / ih);
    const cssW = Math.max(1, Math.floor(w * scale)), cssH = Math.max(1, Math.floor(ih * scale));
    const dpr = window.devicePixelRatio || 1;
    if (canvas.width !== Math.round(cssW * dpr) || canvas.height !== Math.round(cssH * dpr)) {
      canvas.width = Math.round(cssW * dpr);
      canvas.height = Math.round(cssH * dpr);
    }
    canvas.style.width = cssW + 'px';
    canvas.style.height = cssH + 'px';
    stage.style.width = cssW + 'px';
    stage.style.height = cssH + 'px';
    return { scale: cssW / w, dpr, w, h: ih };
  }

  function draw() {
    const L = layout();
    const g = canvas.getContext('2d');
    const k = L.scale * L.dpr;
    g.setTransform(1, 0, 0, 1, 0, 0);
    g.clearRect(0, 0, canvas.width, canvas.height);
    const img = images[variant];
    const has = !!spec.variants[variant];
    stageMsg.hidden = !!(has && img);
    if (!has) stageMsg.textContent = 'This template has no ' + variant + ' image yet. Upload one below.';
    if (!img || !has) return;
    stageMsg.textContent = '';
    g.imageSmoothingQuality = 'high';
    g.drawImage(img, 0, 0, canvas.width, canvas.height);

    // the uploaded logo, scaled to fit its box and centred (as the renderer places it)
    const lb = box('logo');
    if (lb && t.hasLogo && logoImg.complete && logoImg.naturalWidth) {
      const f = Math.min(lb.width / logoImg.naturalWidth, lb.height / logoImg.naturalHeight);
      const lw = logoImg.naturalWidth * f, lh = logoImg.naturalHeight * f;
      g.drawImage(logoImg, (lb.x + (lb.width - lw) / 2) * k, (lb.y + (lb.height - lh) / 2) * k, lw * k, lh * k);
    }

    for (const kind of ['logo', 'text']) {
      const b = box(kind);
      if (!b) continue;
      const isActive = kind === active;
      const color = kind === 'text' ? cssVar('--primary') : cssVar('--accent');
      const x = b.x * k, y = b.y * k, w = b.width * k, hh = b.height * k;
      g.save();
      g.fillStyle = kind === 'text' ? 'rgba(77,141,255,0.16)' : 'rgba(45,212,191,0.16)';
      g.fillRect(x, y, w, hh);
      g.lineWidth = (isActive ? 2 : 1.5) * L.dpr;
      g.strokeStyle = color;
      if (!isActive) g.setLineDash([6 * L.dpr, 4 * L.dpr]);
      g.strokeRect(x + g.lineWidth / 2, y + g.lineWidth / 2, w - g.lineWidth, hh - g.lineWidth);
      g.setLineDash([]);
      // tag
      const label = kind === 'text' ? 'CODE' : 'LOGO';
      g.font = `600 ${11 * L.dpr}px ${getComputedStyle(document.body).fontFamily}`;
      const tw = g.measureText(label).width + 10 * L.dpr, th = 18 * L.dpr;
      const ty = y - th >= 0 ? y - th : y;
      g.fillStyle = color;
      g.fillRect(x, ty, tw, th);
      g.fillStyle = '#ffffff';
      g.textBaseline = 'middle';
      g.fillText(label, x + 5 * L.dpr, ty + th / 2);
      if (isActive) {
        const s = HANDLE_PX * L.dpr;
        for (const [hx, hy] of handlePoints(b)) {
          g.fillStyle = '#ffffff';
          g.fillRect(hx * k - s / 2 - 1, hy * k - s / 2 - 1, s + 2, s + 2);
          g.strokeStyle = color;
          g.lineWidth = 1.5 * L.dpr;
          g.strokeRect(hx * k - s / 2, hy * k - s / 2, s, s);
        }
      }
      g.restore();
    }
    // snap guides
    if (guides.length) {
      g.save();
      g.strokeStyle = cssVar('--warning');
      g.lineWidth = 1 * L.dpr;
      g.setLineDash([4 * L.dpr, 4 * L.dpr]);
      for (const gd of guides) {
        g.beginPath();
        if (gd.axis === 'x') { g.moveTo(gd.at * k, 0); g.lineTo(gd.at * k, canvas.height); } else { g.moveTo(0, gd.at * k); g.lineTo(canvas.width, gd.at * k); }
        g.stroke();
      }
      g.restore();
    }
  }

  // ---------- pointer interaction ----------
  // Handles, in order: nw n ne e se s sw w (each [x, y] in image pixels).
  function handlePoints(b) {
    const cx = b.x + b.width / 2, cy = b.y + b.height / 2, r = b.x + b.width, btm = b.y + b.height;
    return [[b.x, b.y], [cx, b.y], [r, b.y], [r, cy], [r, btm], [cx, btm], [b.x, btm], [b.x, cy]];
  }
  const HANDLE_EDGES = ['nw', 'n', 'ne', 'e', 'se', 's', 'sw', 'w'];
  const CURSORS = { nw: 'nwse-resize', se: 'nwse-resize', ne: 'nesw-resize', sw: 'nesw-resize', n: 'ns-resize', s: 'ns-resize', e: 'ew-resize', w: 'ew-resize' };

  function toImage(e) {
    const r = canvas.getBoundingClientRect();
    const { w, h: ih } = imgSize();
    return { x: clamp((e.clientX - r.left) / r.width * w, 0, w), y: clamp((e.clientY - r.top) / r.height * ih, 0, ih) };
  }
  function hit(p) {
    const L = { scale: canvas.getBoundingClientRect().width / imgSize().w };
    const tol = (HANDLE_PX + 3) / L.scale;
    const order = active === 'logo' ? ['logo', 'text'] : ['text', 'logo'];
    for (const kind of order) {
      const b = box(kind);
      if (!b) continue;
      if (kind === active) {
        const pts = handlePoints(b);
        for (let i = 0; i < pts.length; i++) {
          if (Math.abs(p.x - pts[i][0]) <= tol && Math.abs(p.y - pts[i][1]) <= tol) return { kind, handle: HANDLE_EDGES[i] };
        }
      }
    }
    for (const kind of order) {
      const b = box(kind);
      if (b && p.x >= b.x && p.x <= b.x + b.width && p.y >= b.y && p.y <= b.y + b.height) return { kind, handle: 'move' };
    }
    return null;
  }

  function snapThreshold() { return SNAP_PX / (canvas.getBoundingClientRect().width / imgSize().w); }
  /** Snap one coordinate: to edges / centre line when close, else to the grid. */
  function snap1(v, axis, free) {
    if (free) return { v: Math.round(v), guide: null };
    const { w, h: ih } = imgSize();
    const size = axis === 'x' ? w : ih;
    const thr = snapThreshold();
    for (const target of [0, size / 2, size]) {
      if (Math.abs(v - target) <= thr) return { v: Math.round(target), guide: target === size / 2 ? { axis, at: size / 2 } : null };
    }
    return { v: clamp(Math.round(v / GRID) * GRID, 0, size), guide: null };
  }
  /** Snap a moving box's position (its edges or centre) and keep it inside the image. */
  function snapMove(x, y, bw, bh, free) {
    const { w, h: ih } = imgSize();
    const out = { x: Math.round(x), y: Math.round(y), guides: [] };
    if (!free) {
      const thr = snapThreshold();
      const fit = (pos, len, size, axis) => {
        for (const target of [0, size / 2, size]) {
          for (const off of [0, len / 2, len]) {
            if (Math.abs(pos + off - target) <= thr) {
              if (target === size / 2) out.guides.push({ axis, at: size / 2 });
              return Math.round(target - off);
            }
          }
        }
        return Math.round(pos / GRID) * GRID;
      };
      out.x = fit(x, bw, w, 'x');
      out.y = fit(y, bh, ih, 'y');
    }
    out.x = clamp(out.x, 0, w - bw);
    out.y = clamp(out.y, 0, ih - bh);
    return out;
  }

  canvas.addEventListener('pointerdown', (e) => {
    if (e.button !== 0 || !ctx.canManage || !vspec() || !images[variant]) return;
    canvas.focus();
    const p = toImage(e);
    const target = hit(p);
    if (target) {
      active = target.kind;
      drag = { type: target.handle, kind: target.kind, start: p, orig: { ...box(target.kind) } };
    } else {
      active = mode;
      drag = { type: 'draw', kind: mode, start: p, orig: box(mode) ? { ...box(mode) } : null };
    }
    canvas.setPointerCapture(e.pointerId);
    e.preventDefault();
    syncControls();
    draw();
  });

  canvas.addEventListener('pointermove', (e) => {
    const p = toImage(e);
    if (!drag) {
      const target = ctx.canManage && vspec() ? hit(p) : null;
      canvas.style.cursor = !target ? 'crosshair' : target.handle === 'move' ? 'move' : CURSORS[target.handle];
      return;
    }
    const free = e.altKey;
    const v = vspec();
    const { w, h: ih } = imgSize();
    guides = [];
    if (drag.type === 'draw') {
      const a = snap1(drag.start.x, 'x', free), b = snap1(p.x, 'x', free);
      const c = snap1(drag.start.y, 'y', free), d = snap1(p.y, 'y', free);
      const x0 = Math.min(a.v, b.v), x1 = Math.max(a.v, b.v), y0 = Math.min(c.v, d.v), y1 = Math.max(c.v, d.v);
      if (x1 - x0 < MIN_BOX || y1 - y0 < MIN_BOX) return; // a click, not a drag (yet)
      v[drag.kind] = { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
      guides = [a.guide, b.guide, c.guide, d.guide].filter(Boolean);
      drag.moved = true;
    } else if (drag.type === 'move') {
      const o = drag.orig;
      const s = snapMove(o.x + p.x - drag.start.x, o.y + p.y - drag.start.y, o.width, o.height, free);
      v[drag.kind] = { ...v[drag.kind], x: s.x, y: s.y, width: o.width, height: o.height };
      guides = s.guides;
      drag.moved = true;
    } else {
      const o = drag.orig;
      let x0 = o.x, y0 = o.y, x1 = o.x + o.width, y1 = o.y + o.height;
      const hd = drag.type;
      if (hd.includes('w')) { const s = snap1(p.x, 'x', free); x0 = Math.min(s.v, x1 - MIN_BOX); if (s.guide) guides.push(s.guide); }
      if (hd.includes('e')) { const s = snap1(p.x, 'x', free); x1 = Math.max(s.v, x0 + MIN_BOX); if (s.guide) guides.push(s.guide); }
      if (hd.includes('n')) { const s = snap1(p.y, 'y', free); y0 = Math.min(s.v, y1 - MIN_BOX); if (s.guide) guides.push(s.guide); }
      if (hd.includes('s')) { const s = snap1(p.y, 'y', free); y1 = Math.max(s.v, y0 + MIN_BOX); if (s.guide) guides.push(s.guide); }
      x0 = clamp(x0, 0, w); x1 = clamp(x1, 0, w); y0 = clamp(y0, 0, ih); y1 = clamp(y1, 0, ih);
      v[drag.kind] = { ...v[drag.kind], x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
      drag.moved = true;
    }
    syncControls();
    draw();
  });

  function endDrag() {
    if (!drag) return;
    const moved = drag.moved;
    drag = null;
    guides = [];
    draw();
    if (moved) changed({ previewNow: true });
  }
  canvas.addEventListener('pointerup', endDrag);
  canvas.addEventListener('pointercancel', endDrag);
  canvas.addEventListener('lostpointercapture', endDrag);

  canvas.addEventListener('keydown', (e) => {
    const keys = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
    if (!keys[e.key] || !ctx.canManage) return;
    const b = box(active);
    if (!b) return;
    e.preventDefault();
    const step = e.shiftKey ? 10 : 1;
    const { w, h: ih } = imgSize();
    b.x = clamp(b.x + keys[e.key][0] * step, 0, w - b.width);
    b.y = clamp(b.y + keys[e.key][1] * step, 0, ih - b.height);
    changed();
  });

  ro = new ResizeObserver(() => draw());
  ro.observe(canvasCard);

  // ---------- side panel behaviour ----------
  nameInput.addEventListener('input', () => { spec.name = nameInput.value; syncControls(); });
  strokeRange.addEventListener('input', () => { spec.style.strokeWidth = Number(strokeRange.value); changed(); });
  maxFont.addEventListener('input', () => {
    const n = Math.round(Number(maxFont.value));
    if (Number.isFinite(n) && n >= 8) { spec.style.maxFontSize = n; changed(); }
  });
  maxFont.addEventListener('change', () => { maxFont.value = String(spec.style.maxFontSize); });
  maxLines.addEventListener('change', () => { spec.style.maxLines = Number(maxLines.value); changed(); });
  upper.addEventListener('change', () => { spec.style.uppercase = upper.checked; changed(); });
  sample.addEventListener('input', () => schedulePreview());

  function colorControl(id, labelText, read, write) {
    const picker = h('input', { type: 'color', class: 'color-swatch', id, 'aria-label': labelText + ' colour' });
    const hex = h('input', { class: 'input mono color-hex', id: id + '-hex', maxlength: '7', 'aria-label': labelText + ' colour (hex)', spellcheck: 'false' });
    picker.addEventListener('input', () => { write(picker.value.toUpperCase()); changed(); });
    hex.addEventListener('input', () => {
      if (/^#[0-9a-fA-F]{6}$/.test(hex.value)) { write(hex.value.toUpperCase()); hex.removeAttribute('aria-invalid'); changed(); } else hex.setAttribute('aria-invalid', 'true');
    });
    return {
      node: h('div', { class: 'field' }, h('label', { class: 'label', for: id + '-hex' }, labelText), h('div', { class: 'color-row' }, picker, hex)),
      sync() {
        const v = String(read() || '#000000');
        const six = /^#[0-9a-fA-F]{6}$/.test(v) ? v : /^#[0-9a-fA-F]{8}$/.test(v) ? v.slice(0, 7) : '#000000';
        picker.value = six.toLowerCase();
        if (document.activeElement !== hex) { hex.value = v.toUpperCase(); hex.removeAttribute('aria-invalid'); }
      },
    };
  }

  // ---------- assets: logo, background ----------
  async function loadLogo() {
    if (!t.hasLogo) { logoImg.removeAttribute('src'); syncControls(); return; }
    try {
      const blob = await api(`/api/templates/${enc(t.id)}/logo?v=${t.version}`, imageOpts(leave.signal));
      const url = URL.createObjectURL(blob); urls.add(url);
      logoImg.src = url;
    } catch { logoImg.removeAttribute('src'); }
    syncControls();
  }

  async function uploadAssets(fd, okMessage) {
    try {
      const updated = await post(`/api/templates/${enc(t.id)}/assets`, fd);
      adopt(updated, { keepEdits: true });
      ctx.toast(okMessage, 'success');
    } catch (err) {
      ctx.toast(err.message, 'error');
    }
  }
  logoInput.addEventListener('change', async () => {
    const f = logoInput.files && logoInput.files[0];
    logoInput.value = '';
    if (!f) return;
    const fd = new FormData(); fd.append('logo', f);
    await uploadAssets(fd, 'Logo uploaded.');
    if (!VARIANTS.some((v) => spec.variants[v] && spec.variants[v].logo)) { setMode('logo'); ctx.toast('Now drag on the image to place the logo.', 'info'); }
  });
  logoRemove.addEventListener('click', async () => {
    const ok = await confirmDialog({ title: 'Remove the logo?', text: 'Coupon images from this template will no longer show it. Logo boxes stay, so you can upload another.', confirmLabel: 'Remove', danger: true });
    if (!ok) return;
    try { adopt(await del(`/api/templates/${enc(t.id)}/logo`), { keepEdits: true }); ctx.toast('Logo removed.', 'success'); } catch (err) { ctx.toast(err.message, 'error'); }
  });
  bgInput.addEventListener('change', async () => {
    const f = bgInput.files && bgInput.files[0];
    bgInput.value = '';
    if (!f) return;
    const fd = new FormData(); fd.append(variant, f);
    delete images[variant];
    await uploadAssets(fd, LABEL[variant] + ' image uploaded.');
  });

  /** Take a server answer; with keepEdits, merge its new variants/images into the unsaved spec. */
  function adopt(updated, { keepEdits = false } = {}) {
    const fresh = normaliseSpec(updated);
    if (keepEdits) {
      for (const v of VARIANTS) {
        if (fresh.variants[v] && !spec.variants[v]) spec.variants[v] = fresh.variants[v];
        else if (fresh.variants[v] && spec.variants[v]) spec.variants[v].image = fresh.variants[v].image;
      }
      const savedSpec = JSON.parse(savedJson);
      for (const v of VARIANTS) if (fresh.variants[v] && !savedSpec.variants[v]) savedSpec.variants[v] = fresh.variants[v];
      savedJson = JSON.stringify(savedSpec);
    } else {
      spec = fresh;
      savedJson = JSON.stringify(spec);
    }
    const logoChanged = updated.hasLogo !== t.hasLogo || updated.version !== t.version;
    t = updated;
    if (logoChanged) loadLogo();
    for (const v of VARIANTS) if (!images[v]) loadImage(v);
    titleEl.textContent = t.name;
    syncControls();
    draw();
    schedulePreview();
  }

  // ---------- preview ----------
  let previewUrl = null;
  async function preview() {
    if (previewCtl) previewCtl.abort();
    if (!vspec()) { previewImg.removeAttribute('src'); return; }
    const ctl = new AbortController();
    previewCtl = ctl;
    previewSpin.hidden = false;
    try {
      const blob = await api(`/api/templates/${enc(t.id)}/preview`, {
        method: 'POST', body: { spec, variant, code: sample.value.trim() || 'SAVE20', format: 'png' }, ...imageOpts(ctl.signal),
      });
      const url = URL.createObjectURL(blob); urls.add(url);
      const probe = new Image(); probe.src = url; await probe.decode();
      if (ctl.signal.aborted) { URL.revokeObjectURL(url); urls.delete(url); return; }
      previewImg.src = url;
      previewImg.alt = LABEL[variant] + ' preview with the code ' + (sample.value.trim() || 'SAVE20');
      previewImg.dataset.variant = variant;
      previewFrame.classList.toggle('preview-portrait', variant === 'portrait');
      if (previewUrl) { URL.revokeObjectURL(previewUrl); urls.delete(previewUrl); }
      previewUrl = url;
      previewErr.hidden = true;
    } catch (err) {
      if (err.name === 'AbortError' || ctl.signal.aborted) return;
      previewErr.textContent = err.message;
      previewErr.hidden = false;
    } finally {
      if (previewCtl === ctl) { previewCtl = null; previewSpin.hidden = true; }
    }
  }

  // ---------- save ----------
  saveBtn.addEventListener('click', save);
  async function save() {
    if (!spec.name.trim()) { ctx.toast('Give the template a name.', 'error'); nameInput.focus(); return; }
    spec.name = spec.name.trim();
    saveBtn.disabled = true;
    try {
      const updated = await put('/api/templates/' + enc(t.id), spec);
      adopt(updated);
      ctx.toast('Saved (version ' + updated.version + ').', 'success');
    } catch (err) {
      ctx.toast('Not saved: ' + err.message, 'error');
      syncControls();
    }
  }
  const onKey = (e) => { if ((e.ctrlKey || e.metaKey) && e.key === 's') { e.preventDefault(); if (isDirty()) save(); } };
  document.addEventListener('keydown', onKey);
  const beforeUnload = (e) => { if (isDirty()) { e.preventDefault(); e.returnValue = ''; } };
  window.addEventListener('beforeunload', beforeUnload);
  // In-app links (sidebar, back link) ask before dropping unsaved changes.
  const onLinkClick = async (e) => {
    const a = e.target instanceof Element ? e.target.closest('a[href^="#"]') : null;
    if (!a || !isDirty() || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey) return;
    e.preventDefault();
    e.stopPropagation();
    const ok = await confirmDialog({
      title: 'Leave without saving?', text: 'Your changes to “' + spec.name + '” have not been saved.',
      confirmLabel: 'Leave', danger: true,
    });
    if (ok) { savedJson = JSON.stringify(spec); ctx.navigate(a.getAttribute('href')); }
  };
  document.addEventListener('click', onLinkClick, true);

  syncControls();
  for (const v of VARIANTS) loadImage(v);
  loadLogo();
  draw();
  preview();
  return () => {
    document.removeEventListener('keydown', onKey);
    window.removeEventListener('beforeunload', beforeUnload);
    document.removeEventListener('click', onLinkClick, true);
    cleanup();
  };
}

function cssVar(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#4d8dff';
}
