// Coupons → Coupons: which provider checks codes (GET/PUT /api/coupon-settings), a box to test a
// code (POST /api/validate-coupon), and the workspace's own list (/api/coupons: add, edit,
// deactivate, delete, search, import, export).
import { get, post, put, del, api, couponCodeRules } from '../api.js';
import {
  h, clear, icon, pageHeader, loadInto, emptyState, badge, confirmDialog, formatDate, downloadBlob, debounce,
} from '../ui.js';

const PROVIDERS = [
  { id: 'list', title: 'PromoStack list', text: 'Only the codes listed on this page, while active and not expired.' },
  { id: 'funderpro', title: 'FunderPro CRM', text: 'Each code is checked live against FunderPro’s discount API.' },
  { id: 'any', title: 'Accept any code', text: 'No check at all: every well-formed code is rendered.' },
];
const STATUS_TONE = { active: 'success', inactive: 'neutral', expired: 'warning' };

/** "10% off", "5 USD off", or an em dash. */
export function describeDiscount(d) {
  if (!d) return '—';
  const v = Number.isInteger(d.value) ? String(d.value) : d.value.toFixed(2);
  return d.type === 'percent' ? v + '% off' : v + (d.currency ? ' ' + d.currency : '') + ' off';
}

/** End of the chosen day in UTC (the import format's meaning of a bare date), or null. */
function expiryFromDate(value) {
  if (!value) return null;
  const [y, m, d] = value.split('-').map(Number);
  return Date.UTC(y, m - 1, d, 23, 59, 59, 999);
}

function dateFromExpiry(ms) {
  if (!ms) return '';
  return new Date(ms).toISOString().slice(0, 10);
}

export default async function render(root, ctx) {
  const editable = ctx.canManage;
  const leave = new AbortController();
  ctx.signal.addEventListener('abort', () => leave.abort(), { once: true });

  const exportBtn = h('button', { class: 'btn btn-secondary', type: 'button', id: 'cp-export', onclick: () => exportCsv() },
    icon('download', { size: 16 }), 'Export CSV');
  const importBtn = editable
    ? h('button', { class: 'btn btn-secondary', type: 'button', id: 'cp-import-toggle', onclick: () => toggleImport() },
      icon('upload', { size: 16 }), 'Import')
    : null;
  root.append(pageHeader({
    title: 'Coupons',
    description: 'The coupon codes your generator and Telegram bot accept, and who checks them.',
    actions: [importBtn, exportBtn].filter(Boolean),
  }));
  const body = h('div', { class: 'cp' });
  root.append(body);

  const loaded = await loadInto(body, () => Promise.all([get('/api/coupon-settings', { signal: ctx.signal }), couponCodeRules()]), null,
    { lines: 4, frame: 'card', retry: ctx.reload });
  if (!loaded) return;
  let settings = loaded[0];
  const rules = loaded[1];

  // ---------- provider ----------
  const providerCard = h('section', { class: 'card cp-provider', id: 'cp-provider', 'aria-labelledby': 'cp-provider-title' });
  const failOpen = h('input', { type: 'checkbox', id: 'cp-fail-open', disabled: !editable, onchange: () => saveSettings() });
  const radios = new Map();

  function renderProvider() {
    const fp = settings.funderpro || {};
    const options = PROVIDERS.map((p) => {
      const unavailable = p.id === 'funderpro' && !fp.available;
      const input = h('input', {
        type: 'radio', name: 'cp-provider', id: 'cp-provider-' + p.id, value: p.id,
        checked: settings.provider === p.id, disabled: !editable || unavailable,
        onchange: () => saveSettings(),
      });
      radios.set(p.id, input);
      const meta = p.id === 'list'
        ? badge(settings.listedCodes + (settings.listedCodes === 1 ? ' code' : ' codes'), 'neutral')
        : p.id === 'funderpro'
          ? badge(fp.available ? 'Configured' : 'Not configured', fp.available ? 'success' : 'neutral')
          : badge('No check', 'warning');
      return h('label', { class: 'cp-option' + (unavailable ? ' cp-option-off' : ''), for: 'cp-provider-' + p.id, dataset: { provider: p.id } },
        input,
        h('span', { class: 'cp-option-text' },
          h('span', { class: 'cp-option-title' }, p.title, meta),
          h('span', { class: 'cp-option-desc' }, p.id === 'funderpro' && !fp.available ? fp.detail : p.text)));
    });
    failOpen.checked = !!settings.failOpen;
    const fpDetails = fp.available
      ? h('dl', { class: 'kv cp-kv' },
        h('dt', null, 'API'), h('dd', { class: 'mono' }, fp.apiUrl || '—'),
        h('dt', null, 'Product'), h('dd', { class: 'mono' }, fp.productId || '—'),
        h('dt', null, 'API key'), h('dd', null, fp.hasApiKey ? badge('Set', 'success') : badge('Not set', 'warning')))
      : null;
    const warning = settings.provider === 'any'
      ? h('div', { class: 'callout callout-warning', id: 'cp-any-warning', role: 'note' }, icon('alert', { size: 18 }),
        h('span', null, 'Every code is accepted, including made-up ones. Anyone who can use the generator or the bot can put any code on your images. Choose the list or FunderPro to check codes.'))
      : null;
    clear(providerCard).append(
      h('div', { class: 'card-header' }, h('div', null,
        h('h2', { class: 'card-title', id: 'cp-provider-title' }, 'Who checks codes'),
        h('p', { class: 'card-subtitle' }, settings.chosen ? 'Chosen for this workspace.' : 'The default for this workspace; pick one to change it.'))),
      h('div', { class: 'card-body' },
        h('fieldset', { class: 'cp-options', 'aria-label': 'Coupon provider' }, options),
        warning,
        h('div', { class: 'cp-failopen' + (settings.provider === 'funderpro' ? '' : ' cp-muted') },
          h('label', { class: 'check-row', for: 'cp-fail-open' }, failOpen,
            'When FunderPro can’t be reached, accept codes unverified'),
          h('p', { class: 'hint' }, failOpen.checked
            ? 'Fail open: during an outage any well-formed code is accepted without a check.'
            : 'Fail closed (recommended): during an outage codes are refused with “we can’t verify this code right now, try again in a minute”.')),
        fpDetails));
  }

  async function saveSettings() {
    const chosen = [...radios.values()].find((r) => r.checked);
    const next = { provider: chosen ? chosen.value : settings.provider, failOpen: failOpen.checked };
    if (next.provider === 'any' && settings.provider !== 'any') {
      const ok = await confirmDialog({
        title: 'Accept any code?',
        text: 'No code will be checked: made-up codes render too. Use this only if codes are checked elsewhere.',
        confirmLabel: 'Accept any code',
        danger: true,
      });
      if (!ok) { renderProvider(); return; }
    }
    for (const r of radios.values()) r.disabled = true;
    failOpen.disabled = true;
    try {
      settings = await put('/api/coupon-settings', next);
      ctx.toast('Coupon provider saved', 'success');
    } catch (err) {
      ctx.toast(err.message, 'error');
    }
    renderProvider();
    renderListNote();
  }

  // ---------- test a code ----------
  const testInput = h('input', {
    class: 'input mono', id: 'cp-test-code', maxlength: String(rules.maxChars), autocomplete: 'off', spellcheck: 'false',
    placeholder: 'SAVE10', 'aria-label': 'Code to test',
  });
  const testResult = h('div', { class: 'cp-test-result', id: 'cp-test-result', role: 'status', 'aria-live': 'polite' });
  const testSubmit = h('button', { class: 'btn btn-primary', type: 'submit', id: 'cp-test-submit' }, 'Check');
  const testCard = h('form', { class: 'card cp-test', id: 'cp-test', novalidate: true, 'aria-labelledby': 'cp-test-title' },
    h('div', { class: 'card-header' }, h('div', null,
      h('h2', { class: 'card-title', id: 'cp-test-title' }, 'Test a code'),
      h('p', { class: 'card-subtitle' }, 'Asks the provider exactly as the generator and the bot do.'))),
    h('div', { class: 'card-body' },
      h('div', { class: 'form-row' }, h('div', { class: 'field' }, testInput), testSubmit),
      testResult));
  testCard.addEventListener('submit', async (e) => {
    e.preventDefault();
    const code = testInput.value.trim();
    if (!code) { testInput.focus(); return; }
    testSubmit.disabled = true;
    clear(testResult).append(h('span', { class: 'hint' }, 'Checking ' + code + '…'));
    try {
      const res = await post('/api/validate-coupon', { code }, { signal: leave.signal });
      const tone = res.valid ? (res.code === 'unverified' || res.code === 'accept_any' ? 'warning' : 'success') : 'danger';
      clear(testResult).append(h('div', { class: 'cp-verdict cp-verdict-' + tone, dataset: { valid: String(res.valid), code: res.code || '' } },
        icon(res.valid ? 'check' : 'close', { size: 16 }),
        h('span', null, res.reason),
        res.code ? h('span', { class: 'badge badge-neutral mono' }, res.code) : null));
    } catch (err) {
      if (err.name === 'AbortError') return;
      clear(testResult).append(h('div', { class: 'cp-verdict cp-verdict-danger', dataset: { valid: 'false', code: err.code || '' } },
        icon('alert', { size: 16 }), h('span', null, err.message)));
    } finally {
      testSubmit.disabled = false;
    }
  });

  // ---------- import ----------
  const importText = h('textarea', {
    class: 'textarea mono', id: 'cp-import-text', rows: '6', spellcheck: 'false',
    placeholder: 'One code per line, or CSV:\ncode,discount_type,discount_value,currency,active,expires_at,note\nSPRING25,percent,25,,true,2026-06-30,Spring campaign',
  });
  const importFile = h('input', { type: 'file', id: 'cp-import-file', accept: '.csv,text/csv,text/plain', class: 'sr-only' });
  const importError = h('p', { class: 'field-error', id: 'cp-import-error', role: 'alert' });
  const importSubmit = h('button', { class: 'btn btn-primary', type: 'submit', id: 'cp-import-submit' }, icon('upload', { size: 16 }), 'Import codes');
  const importCard = h('form', { class: 'card', id: 'cp-import', hidden: true, novalidate: true, 'aria-labelledby': 'cp-import-title' },
    h('div', { class: 'card-header' }, h('div', null,
      h('h2', { class: 'card-title', id: 'cp-import-title' }, 'Import codes'),
      h('p', { class: 'card-subtitle' }, 'Paste codes or load a CSV. Existing codes are updated; nothing is saved if a line is wrong.'))),
    h('div', { class: 'card-body' },
      h('div', { class: 'field' }, h('label', { class: 'label', for: 'cp-import-text' }, 'Codes'), importText),
      h('div', { class: 'file-row' },
        h('label', { class: 'btn btn-secondary btn-sm', for: 'cp-import-file' }, icon('plus', { size: 14 }), 'Load a CSV file'),
        importFile),
      importError),
    h('div', { class: 'card-footer' },
      h('button', { class: 'btn btn-ghost', type: 'button', onclick: () => toggleImport(false) }, 'Cancel'),
      importSubmit));
  function toggleImport(show = importCard.hidden) {
    importCard.hidden = !show;
    if (show) importText.focus();
  }
  importFile.addEventListener('change', async () => {
    const file = importFile.files && importFile.files[0];
    if (!file) return;
    if (file.size > 2 * 1024 * 1024) { importError.textContent = 'That file is larger than 2 MB.'; return; }
    importText.value = await file.text();
    importFile.value = '';
  });
  importCard.addEventListener('submit', async (e) => {
    e.preventDefault();
    importError.textContent = '';
    if (!importText.value.trim()) { importError.textContent = 'Paste some codes first.'; importText.focus(); return; }
    importSubmit.disabled = true;
    try {
      const res = await post('/api/coupons/import', { text: importText.value });
      ctx.toast(`Imported: ${res.created} new, ${res.updated} updated`, 'success');
      importText.value = '';
      toggleImport(false);
      await reload();
    } catch (err) {
      importError.textContent = err.message;
    } finally {
      importSubmit.disabled = false;
    }
  });

  async function exportCsv() {
    exportBtn.disabled = true;
    try {
      const blob = await api('/api/coupons/export', { responseType: 'blob', headers: { Accept: 'text/csv' }, signal: leave.signal });
      downloadBlob(blob, 'coupons.csv');
    } catch (err) {
      if (err.name !== 'AbortError') ctx.toast(err.message, 'error');
    } finally {
      exportBtn.disabled = false;
    }
  }

  // ---------- add / edit ----------
  const f = {
    code: h('input', { class: 'input mono', id: 'cp-code', maxlength: String(rules.maxChars), autocomplete: 'off', spellcheck: 'false', placeholder: 'SPRING25', required: true }),
    type: h('select', { class: 'select', id: 'cp-discount-type' },
      h('option', { value: '' }, 'None'), h('option', { value: 'percent' }, 'Percent off'), h('option', { value: 'amount' }, 'Amount off')),
    value: h('input', { class: 'input', id: 'cp-discount-value', type: 'number', min: '0', step: 'any', inputmode: 'decimal', placeholder: '25' }),
    currency: h('input', { class: 'input mono', id: 'cp-currency', maxlength: '3', placeholder: 'USD', autocomplete: 'off' }),
    expires: h('input', { class: 'input', id: 'cp-expires', type: 'date' }),
    note: h('input', { class: 'input', id: 'cp-note', maxlength: '200', placeholder: 'Where this code is used', autocomplete: 'off' }),
    active: h('input', { type: 'checkbox', id: 'cp-active', checked: true }),
  };
  const formError = h('p', { class: 'field-error', id: 'cp-error', role: 'alert' });
  const formTitle = h('h2', { class: 'card-title', id: 'cp-form-title' }, 'Add a code');
  const formSave = h('button', { class: 'btn btn-primary', type: 'submit', id: 'cp-save' }, icon('plus', { size: 16 }), 'Add code');
  const formCancel = h('button', { class: 'btn btn-ghost', type: 'button', id: 'cp-cancel', hidden: true, onclick: () => resetForm() }, 'Cancel');
  let editing = null;
  const valueField = h('div', { class: 'field field-narrow' }, h('label', { class: 'label', for: 'cp-discount-value' }, 'Discount'), f.value);
  const currencyField = h('div', { class: 'field field-narrow' }, h('label', { class: 'label', for: 'cp-currency' }, 'Currency'), f.currency);
  const formCard = editable ? h('form', { class: 'card', id: 'cp-form', novalidate: true, 'aria-labelledby': 'cp-form-title' },
    h('div', { class: 'card-header' }, h('div', null, formTitle,
      h('p', { class: 'card-subtitle' }, 'Codes match without regard to case or surrounding spaces.'))),
    h('div', { class: 'card-body' },
      h('div', { class: 'form-row' },
        h('div', { class: 'field' }, h('label', { class: 'label', for: 'cp-code' }, 'Code'), f.code),
        h('div', { class: 'field field-narrow' }, h('label', { class: 'label', for: 'cp-discount-type' }, 'Discount type'), f.type),
        valueField, currencyField),
      h('div', { class: 'form-row mt-4' },
        h('div', { class: 'field field-narrow' }, h('label', { class: 'label', for: 'cp-expires' }, 'Expires (UTC)'), f.expires),
        h('div', { class: 'field' }, h('label', { class: 'label', for: 'cp-note' }, 'Note'), f.note),
        h('label', { class: 'check-row cp-active-row', for: 'cp-active' }, f.active, 'Active')),
      formError),
    h('div', { class: 'card-footer' }, formCancel, formSave)) : null;
  const syncDiscount = () => {
    valueField.hidden = !f.type.value;
    currencyField.hidden = f.type.value !== 'amount';
  };
  f.type.addEventListener('change', syncDiscount);
  f.code.addEventListener('input', () => { formError.textContent = ''; f.code.removeAttribute('aria-invalid'); });
  syncDiscount();

  function resetForm() {
    editing = null;
    f.code.value = ''; f.type.value = ''; f.value.value = ''; f.currency.value = ''; f.expires.value = ''; f.note.value = '';
    f.active.checked = true;
    formTitle.textContent = 'Add a code';
    clear(formSave).append(icon('plus', { size: 16 }), 'Add code');
    formCancel.hidden = true;
    formError.textContent = '';
    syncDiscount();
  }

  function startEdit(c) {
    editing = c;
    f.code.value = c.code;
    f.type.value = c.discount ? c.discount.type : '';
    f.value.value = c.discount ? String(c.discount.value) : '';
    f.currency.value = (c.discount && c.discount.currency) || '';
    f.expires.value = dateFromExpiry(c.expiresAt);
    f.note.value = c.note || '';
    f.active.checked = c.active;
    formTitle.textContent = 'Edit ' + c.code;
    clear(formSave).append(icon('check', { size: 16 }), 'Save changes');
    formCancel.hidden = false;
    syncDiscount();
    formCard.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
    f.code.focus();
  }

  function formBody() {
    const b = { code: f.code.value.trim(), active: f.active.checked, expiresAt: expiryFromDate(f.expires.value), note: f.note.value.trim() || null };
    if (f.type.value) {
      b.discount = { type: f.type.value, value: Number(f.value.value) };
      if (f.type.value === 'amount' && f.currency.value.trim()) b.discount.currency = f.currency.value.trim().toUpperCase();
    }
    return b;
  }

  /** The same rules as the server, so most mistakes are caught before a round trip. */
  function localProblem(b) {
    if (!b.code) return 'Enter a code.';
    if (!/^[\p{L}\p{N}._-]+$/u.test(b.code)) return 'Use letters, digits, “-”, “_” and “.” only.';
    if (b.discount && !(b.discount.value > 0)) return 'Enter a discount greater than zero.';
    if (b.discount && b.discount.type === 'percent' && b.discount.value > 100) return 'A percent discount is at most 100.';
    return '';
  }

  if (formCard) {
    formCard.addEventListener('submit', async (e) => {
      e.preventDefault();
      const b = formBody();
      const problem = localProblem(b);
      if (problem) { formError.textContent = problem; f.code.setAttribute('aria-invalid', 'true'); f.code.focus(); return; }
      formSave.disabled = true;
      try {
        const saved = editing
          ? await put('/api/coupons/' + encodeURIComponent(editing.id), b)
          : await post('/api/coupons', b);
        ctx.toast((editing ? 'Saved ' : 'Added ') + saved.code, 'success');
        resetForm();
        await reload();
        f.code.focus();
      } catch (err) {
        formError.textContent = err.message;
        f.code.setAttribute('aria-invalid', 'true');
      } finally {
        formSave.disabled = false;
      }
    });
  }

  // ---------- the list ----------
  const count = h('span', { class: 'badge badge-neutral', id: 'cp-count' }, '…');
  const search = h('input', { class: 'input cp-search', id: 'cp-search', type: 'search', placeholder: 'Search codes and notes', autocomplete: 'off', 'aria-label': 'Search codes' });
  const listNote = h('div');
  const listBody = h('div');
  const listCard = h('section', { class: 'card', id: 'cp-list', 'aria-labelledby': 'cp-list-title' },
    h('div', { class: 'card-header' },
      h('div', null,
        h('h2', { class: 'card-title', id: 'cp-list-title' }, 'Listed codes ', count),
        h('p', { class: 'card-subtitle' }, 'Checked when “PromoStack list” is the provider.')),
      h('div', { class: 'card-header-tools' }, search)),
    listNote, listBody);
  let coupons = [];
  let total = 0;

  function renderListNote() {
    clear(listNote);
    if (settings.provider !== 'list') {
      listNote.append(h('div', { class: 'cp-list-note' }, h('div', { class: 'callout', id: 'cp-list-unused' }, icon('info', { size: 18 }),
        h('span', null, settings.provider === 'funderpro'
          ? 'FunderPro checks codes right now, so this list is not used. It is kept for when you switch back.'
          : 'Any code is accepted right now, so this list is not used.'))));
    }
  }

  // Searching and saving keep the list in place while the new one loads.
  function reload() {
    const q = search.value.trim();
    return loadInto(listBody, () => get('/api/coupons' + (q ? '?search=' + encodeURIComponent(q) : ''), { signal: leave.signal }), (data) => {
      coupons = data.coupons || [];
      total = data.total || 0;
      if (!q) settings.listedCodes = total;
      renderList();
      if (!q) renderProvider();
    }, { keep: true });
  }
  const scheduleSearch = debounce(reload, 200);
  search.addEventListener('input', scheduleSearch);

  function renderList() {
    count.textContent = String(total);
    clear(listBody);
    if (!coupons.length) {
      const q = search.value.trim();
      listBody.append(emptyState({
        iconName: 'tag',
        title: q ? 'No code matches' : 'No codes yet',
        text: q ? 'No listed code or note contains “' + q + '”.' : editable
          ? 'Add the codes your customers may use above, or import a CSV.'
          : 'Nobody has listed a code in this workspace yet.',
      }));
      return;
    }
    const rows = coupons.map((c) => {
      const actions = editable ? [
        h('button', { class: 'btn btn-ghost btn-sm', type: 'button', 'data-action': 'edit', 'aria-label': 'Edit ' + c.code, onclick: () => startEdit(c) }, 'Edit'),
        h('button', { class: 'btn btn-ghost btn-sm', type: 'button', 'data-action': 'toggle', 'aria-label': (c.active ? 'Deactivate ' : 'Activate ') + c.code, onclick: (e) => toggleActive(c, e.currentTarget) }, c.active ? 'Deactivate' : 'Activate'),
        h('button', { class: 'btn btn-danger-ghost btn-sm', type: 'button', 'data-action': 'delete', 'aria-label': 'Delete ' + c.code, onclick: (e) => remove(c, e.currentTarget) }, icon('trash', { size: 16 })),
      ] : [];
      return h('tr', { dataset: { id: c.id, code: c.code, status: c.status } },
        h('td', null, h('span', { class: 'mono cp-code' }, c.code),
          h('div', { class: 'cp-code-sub show-mobile' }, describeDiscount(c.discount))),
        h('td', { class: 'hide-mobile' }, describeDiscount(c.discount)),
        h('td', null, badge(c.status[0].toUpperCase() + c.status.slice(1), STATUS_TONE[c.status] || 'neutral')),
        h('td', { class: 'col-muted hide-mobile' }, c.expiresAt ? formatDate(c.expiresAt) : 'Never'),
        h('td', { class: 'col-muted hide-mobile cp-note' }, c.note || ''),
        h('td', { class: 'col-actions' }, actions));
    });
    listBody.append(h('div', { class: 'table-wrap' },
      h('table', { class: 'table', id: 'cp-table' },
        h('thead', null, h('tr', null,
          h('th', { scope: 'col' }, 'Code'),
          h('th', { scope: 'col', class: 'hide-mobile' }, 'Discount'),
          h('th', { scope: 'col' }, 'Status'),
          h('th', { scope: 'col', class: 'hide-mobile' }, 'Expires'),
          h('th', { scope: 'col', class: 'hide-mobile' }, 'Note'),
          h('th', { scope: 'col', class: 'col-actions' }, h('span', { class: 'sr-only' }, 'Actions')))),
        h('tbody', null, rows))),
    h('p', { class: 'hint cp-more', hidden: total <= coupons.length }, `Showing ${coupons.length} of ${total}. Search to narrow the list, or export the CSV for all of them.`));
  }

  function inputOf(c) {
    return { code: c.code, discount: c.discount || null, active: c.active, expiresAt: c.expiresAt || null, note: c.note || null };
  }

  async function toggleActive(c, btn) {
    btn.disabled = true;
    try {
      const saved = await put('/api/coupons/' + encodeURIComponent(c.id), { ...inputOf(c), active: !c.active });
      ctx.toast(saved.code + (saved.active ? ' is active again' : ' was deactivated'), 'success');
      await reload();
    } catch (err) {
      btn.disabled = false;
      ctx.toast(err.message, 'error');
    }
  }

  async function remove(c, btn) {
    const ok = await confirmDialog({
      title: 'Delete ' + c.code + '?',
      text: 'The code stops working at once. To pause it instead, deactivate it.',
      confirmLabel: 'Delete code',
      danger: true,
    });
    if (!ok) return;
    btn.disabled = true;
    try {
      await del('/api/coupons/' + encodeURIComponent(c.id));
      if (editing && editing.id === c.id) resetForm();
      ctx.toast(c.code + ' was deleted', 'success');
      await reload();
    } catch (err) {
      btn.disabled = false;
      ctx.toast(err.message, 'error');
    }
  }

  renderProvider();
  renderListNote();
  clear(body).append(...[
    h('div', { class: 'cp-top' }, providerCard, testCard),
    editable ? null : h('div', { class: 'callout' }, icon('info', { size: 18 }), h('span', null, 'Only owners and admins can change the provider or the list.')),
    importCard,
    formCard,
    listCard].filter(Boolean));
  await reload();
  return () => leave.abort();
}
