// Coupons → Campaigns: the list (#coupons/campaigns), a new campaign (#coupons/campaigns/new) and
// one campaign's editor with its overlay and entries (#coupons/campaigns/<id>).
import { get, post, put, patch, del, api } from '../api.js';
import {
  h, clear, icon, pageHeader, loadInto, errorState, emptyState, badge, confirmDialog, formatDate, downloadBlob,
} from '../ui.js';

const PLATFORMS = [
  ['instagram', 'Instagram'], ['tiktok', 'TikTok'], ['x', 'X'],
  ['facebook', 'Facebook'], ['telegram', 'Telegram'], ['youtube', 'YouTube'],
];
const PLATFORM_LABEL = Object.fromEntries(PLATFORMS);
const STATUS = {
  upcoming: ['Upcoming', 'info'], active: ['Active', 'success'], paused: ['Paused', 'warning'], ended: ['Ended', 'neutral'],
};
const ENTRY_STATUS = { pending: ['Pending', 'warning'], approved: ['Approved', 'success'], rejected: ['Rejected', 'danger'] };
const IMAGE_TYPES = 'image/png,image/jpeg,image/webp';
const enc = encodeURIComponent;
const DAY = 86_400_000;

export default async function render(root, ctx) {
  const param = ctx.params[0];
  if (param === 'new') return editorView(root, ctx, null);
  if (param) return editorView(root, ctx, param);
  return listView(root, ctx);
}

// The list shows the badge twice (its own column, and under the name on phones); only the
// column's copy carries the `cmp-status` hook so one row has one status to read.
function statusBadge(status, { copy = false } = {}) {
  const [label, tone] = STATUS[status] || [status, 'neutral'];
  const b = badge(label, tone);
  b.dataset.status = status;
  b.classList.add(copy ? 'cmp-status-copy' : 'cmp-status');
  return b;
}

function publicUrl(c) {
  return location.origin + (c.publicPath || '/campaign/' + enc(c.id));
}

async function copyText(text, ctx) {
  try {
    await navigator.clipboard.writeText(text);
    ctx.toast('Link copied.', 'success');
  } catch {
    ctx.toast(text, 'info', { timeout: 10_000 });
  }
}

function windowText(c) {
  return formatDate(c.startsAt, { time: true }) + ' → ' + formatDate(c.endsAt, { time: true });
}

// =====================================================================================
// List
// =====================================================================================

async function listView(root, ctx) {
  root.append(pageHeader({
    title: 'Campaigns',
    description: 'Photo promotions: people frame a photo with your overlay, post it and send you the link.',
    actions: ctx.canManage ? [h('a', { class: 'btn btn-primary', href: '#coupons/campaigns/new', id: 'cmp-new' }, icon('plus', { size: 16 }), 'New campaign')] : [],
  }));
  const body = h('div');
  root.append(body);

  function load() {
    return loadInto(body, () => get('/api/campaigns', { signal: ctx.signal }), show, { lines: 4, frame: 'card' });
  }

  function show(data) {
    const campaigns = data.campaigns || [];
    if (!campaigns.length) {
      clear(body).append(h('section', { class: 'card', id: 'cmp-empty' }, emptyState({
        iconName: 'flag',
        title: 'No campaigns yet',
        text: 'Create a campaign, upload a frame overlay and share its public page.',
        actions: ctx.canManage ? [h('a', { class: 'btn btn-primary', href: '#coupons/campaigns/new' }, icon('plus', { size: 16 }), 'New campaign')] : [],
      })));
      return;
    }
    const counts = { active: 0, entries: 0, pending: 0 };
    for (const c of campaigns) {
      if (c.status === 'active') counts.active++;
      counts.entries += c.entries;
      counts.pending += c.pending;
    }
    const stats = h('div', { class: 'grid grid-3 cmp-stats' },
      stat('Active campaigns', counts.active, 'flag'),
      stat('Entries', counts.entries, 'users'),
      stat('Waiting for review', counts.pending, 'clock'));
    const rows = campaigns.map((c) => h('tr', { dataset: { id: c.id }, class: 'cmp-row' },
      h('td', null,
        h('a', { class: 'cmp-name', href: '#coupons/campaigns/' + enc(c.id) }, c.title),
        h('div', { class: 'cmp-sub' }, c.platforms.map((p) => PLATFORM_LABEL[p] || p).join(' · ')),
        h('div', { class: 'show-mobile cmp-sub' }, statusBadge(c.status, { copy: true }))),
      h('td', { class: 'hide-mobile' }, statusBadge(c.status)),
      h('td', { class: 'col-muted hide-mobile' }, windowText(c)),
      h('td', { class: 'cmp-num' }, h('span', { class: 'cmp-entries' }, String(c.entries)),
        c.pending ? h('span', { class: 'cmp-pending' }, c.pending + ' pending') : null),
      h('td', { class: 'col-actions' }, h('div', { class: 'cmp-row-actions' },
        h('button', { class: 'btn-icon btn-icon-sm', type: 'button', 'aria-label': 'Copy the public link of ' + c.title, title: 'Copy public link', onclick: () => copyText(publicUrl(c), ctx) }, icon('share', { size: 16 })),
        h('a', { class: 'btn btn-secondary btn-sm', href: '#coupons/campaigns/' + enc(c.id) }, 'Open')))));
    clear(body).append(stats, h('section', { class: 'card mt-4' },
      h('div', { class: 'table-wrap' },
        h('table', { class: 'table', id: 'cmp-list' },
          h('thead', null, h('tr', null,
            h('th', { scope: 'col' }, 'Campaign'), h('th', { scope: 'col', class: 'hide-mobile' }, 'Status'),
            h('th', { scope: 'col', class: 'hide-mobile' }, 'Runs'), h('th', { scope: 'col' }, 'Entries'),
            h('th', { scope: 'col', class: 'col-actions' }, h('span', { class: 'sr-only' }, 'Actions')))),
          h('tbody', null, rows)))));
  }
  load();
}

function stat(label, value, iconName) {
  return h('div', { class: 'stat' }, h('div', { class: 'stat-label' }, icon(iconName, { size: 16 }), label), h('div', { class: 'stat-value' }, String(value)));
}

// =====================================================================================
// Editor (+ overlay + entries)
// =====================================================================================

function toLocalInput(ms) {
  const d = new Date(ms);
  return new Date(ms - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
}

function fromLocalInput(value) {
  const ms = new Date(value).getTime();
  return Number.isFinite(ms) ? ms : NaN;
}

async function editorView(root, ctx, id) {
  const urls = [];
  const cleanup = () => { for (const u of urls) URL.revokeObjectURL(u); };
  let campaign = null;
  if (id) {
    campaign = await loadInto(root, () => get('/api/campaigns/' + enc(id), { signal: ctx.signal }), null, {
      lines: 5,
      frame: 'card',
      error: (err, retry) => [
        h('a', { class: 'back-link', href: '#coupons/campaigns' }, '← All campaigns'),
        h('section', { class: 'card mt-4' }, err.status === 404
          ? emptyState({ iconName: 'flag', title: 'Campaign not found', text: 'It may have been deleted, or it belongs to another workspace.', level: 1 })
          : errorState(err.message, retry))],
      retry: ctx.reload,
    });
    if (!campaign) return cleanup;
    clear(root);
  }
  const readOnly = !ctx.canManage;

  const titleEl = h('span', null, campaign ? campaign.title : 'New campaign');
  let headerBadge = campaign ? statusBadge(campaign.status) : null;
  root.append(
    h('a', { class: 'back-link', href: '#coupons/campaigns' }, '← All campaigns'),
    pageHeader({
      title: h('span', { class: 'cmp-title-row' }, titleEl, headerBadge),
      description: campaign ? windowText(campaign) : 'Set the dates and platforms; add the overlay after saving.',
      actions: campaign ? [
        h('a', { class: 'btn btn-secondary', href: campaign.publicPath, target: '_blank', rel: 'noopener', id: 'cmp-open-public' }, icon('eye', { size: 16 }), 'Public page'),
        h('button', { class: 'btn btn-ghost', type: 'button', id: 'cmp-copy-link', onclick: () => copyText(publicUrl(campaign), ctx) }, icon('share', { size: 16 }), 'Copy link'),
      ] : [],
    }));

  // ---------- details form ----------
  const now = Date.now();
  const title = h('input', { class: 'input', id: 'cmp-title', maxlength: '120', required: true, value: campaign ? campaign.title : '', disabled: readOnly });
  const description = h('textarea', { class: 'textarea', id: 'cmp-description', maxlength: '2000', rows: '3', disabled: readOnly });
  description.value = campaign ? campaign.description : '';
  const starts = h('input', { class: 'input', id: 'cmp-starts', type: 'datetime-local', required: true, value: toLocalInput(campaign ? campaign.startsAt : Math.ceil(now / 3_600_000) * 3_600_000), disabled: readOnly });
  const ends = h('input', { class: 'input', id: 'cmp-ends', type: 'datetime-local', required: true, value: toLocalInput(campaign ? campaign.endsAt : Math.ceil(now / 3_600_000) * 3_600_000 + 14 * DAY), disabled: readOnly });
  const chosen = new Set(campaign ? campaign.platforms : ['instagram', 'tiktok']);
  const platformBoxes = PLATFORMS.map(([pid, label]) => {
    const box = h('input', { type: 'checkbox', class: 'checkbox', id: 'cmp-platform-' + pid, value: pid, checked: chosen.has(pid), disabled: readOnly });
    return h('label', { class: 'check-row cmp-platform', for: 'cmp-platform-' + pid }, box, label);
  });
  const paused = h('input', { type: 'checkbox', class: 'checkbox', id: 'cmp-paused', checked: campaign ? campaign.paused : false, disabled: readOnly });
  const formError = h('p', { class: 'field-error', id: 'cmp-form-error', role: 'alert' });
  const saveBtn = h('button', { class: 'btn btn-primary', type: 'submit', id: 'cmp-save', disabled: readOnly }, campaign ? 'Save changes' : 'Create campaign');
  const deleteBtn = campaign && !readOnly ? h('button', { class: 'btn btn-danger-ghost', type: 'button', id: 'cmp-delete' }, icon('trash', { size: 16 }), 'Delete') : null;

  const form = h('form', { class: 'card', id: 'cmp-form', novalidate: true },
    h('div', { class: 'card-header' }, h('div', null, h('h2', { class: 'card-title' }, 'Details'), h('p', { class: 'card-subtitle' }, 'Shown on the public page. Entries are accepted between the start and the end.'))),
    h('div', { class: 'card-body' },
      h('div', { class: 'field' }, h('label', { class: 'label', for: 'cmp-title' }, 'Title'), title),
      h('div', { class: 'field' }, h('label', { class: 'label', for: 'cmp-description' }, 'Description'), description,
        h('p', { class: 'hint' }, 'What to post and what people can win. Plain text.')),
      h('div', { class: 'grid grid-2 cmp-dates mt-4' },
        h('div', { class: 'field' }, h('label', { class: 'label', for: 'cmp-starts' }, 'Starts'), starts),
        h('div', { class: 'field' }, h('label', { class: 'label', for: 'cmp-ends' }, 'Ends'), ends)),
      h('fieldset', { class: 'cmp-fieldset mt-4' }, h('legend', { class: 'label' }, 'Where people post'),
        h('div', { class: 'cmp-platforms' }, platformBoxes)),
      h('label', { class: 'check-row mt-4', for: 'cmp-paused' }, paused, 'Paused — stop accepting entries for now'),
      formError),
    h('div', { class: 'card-footer' }, deleteBtn, h('span', { class: 'card-footer-note' }, campaign ? 'Last saved ' + formatDate(campaign.updatedAt, { time: true }) : ''), saveBtn));
  root.append(form);

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    formError.textContent = '';
    const body = {
      title: title.value.trim(),
      description: description.value.trim(),
      startsAt: fromLocalInput(starts.value),
      endsAt: fromLocalInput(ends.value),
      platforms: platformBoxes.map((l) => l.querySelector('input')).filter((b) => b.checked).map((b) => b.value),
      paused: paused.checked,
    };
    if (!body.title) { formError.textContent = 'Give the campaign a title.'; title.focus(); return; }
    if (!Number.isFinite(body.startsAt) || !Number.isFinite(body.endsAt)) { formError.textContent = 'Set both the start and the end.'; return; }
    if (body.endsAt <= body.startsAt) { formError.textContent = 'The end must be after the start.'; ends.focus(); return; }
    if (!body.platforms.length) { formError.textContent = 'Choose at least one platform.'; return; }
    saveBtn.disabled = true;
    try {
      const saved = campaign ? await put('/api/campaigns/' + enc(campaign.id), body) : await post('/api/campaigns', body);
      ctx.toast(campaign ? 'Campaign saved.' : 'Campaign created. Add an overlay next.', 'success');
      if (!campaign) { ctx.navigate('#coupons/campaigns/' + enc(saved.id)); return; }
      campaign = saved;
      titleEl.textContent = saved.title;
      const fresh = statusBadge(saved.status);
      headerBadge.replaceWith(fresh);
      headerBadge = fresh;
    } catch (err) {
      formError.textContent = err.message;
    } finally {
      saveBtn.disabled = readOnly;
    }
  });

  if (deleteBtn) {
    deleteBtn.addEventListener('click', async () => {
      const ok = await confirmDialog({
        title: 'Delete this campaign?',
        text: '“' + campaign.title + '”, its overlay and all ' + campaign.entries + ' entries are removed and the public page stops working. This cannot be undone.',
        confirmLabel: 'Delete', danger: true,
      });
      if (!ok) return;
      try {
        await del('/api/campaigns/' + enc(campaign.id));
        ctx.toast('Campaign deleted.', 'success');
        ctx.navigate('#coupons/campaigns');
      } catch (err) { ctx.toast(err.message, 'error'); }
    });
  }

  if (!campaign) return cleanup;

  // ---------- overlay ----------
  const overlayCard = h('section', { class: 'card', id: 'cmp-overlay-card' });
  root.append(overlayCard);
  let overlayImg = null;
  const preview = h('canvas', { class: 'cmp-preview', id: 'cmp-overlay-preview', 'aria-label': 'Overlay preview over a sample photo' });
  const overlayInput = h('input', { type: 'file', accept: IMAGE_TYPES, id: 'cmp-overlay-file', class: 'sr-only', disabled: readOnly });
  const overlayInfo = h('p', { class: 'hint', id: 'cmp-overlay-info' });
  const removeBtn = h('button', { class: 'btn btn-danger-ghost btn-sm', type: 'button', id: 'cmp-overlay-remove' }, icon('trash', { size: 14 }), 'Remove');

  function drawPreview() {
    const [cw, ch] = campaign.overlay ? [campaign.overlay.width, campaign.overlay.height] : [1080, 1080];
    const w = 480, hgt = Math.round(w * ch / cw);
    preview.width = w; preview.height = hgt;
    const c = preview.getContext('2d');
    // A sample "photo": a soft gradient with a horizon, so transparent areas are visible.
    const g = c.createLinearGradient(0, 0, w, hgt);
    g.addColorStop(0, '#3b5b92'); g.addColorStop(1, '#1c8c7f');
    c.fillStyle = g; c.fillRect(0, 0, w, hgt);
    c.fillStyle = 'rgba(255,255,255,0.18)';
    c.beginPath(); c.arc(w * 0.7, hgt * 0.35, Math.min(w, hgt) * 0.12, 0, Math.PI * 2); c.fill();
    c.fillStyle = 'rgba(6,12,26,0.35)'; c.fillRect(0, hgt * 0.68, w, hgt * 0.32);
    if (overlayImg) c.drawImage(overlayImg, 0, 0, w, hgt);
    else { c.fillStyle = 'rgba(220, 38, 38, 0.35)'; c.fillRect(0, 0, w, hgt); }
  }

  async function loadOverlay() {
    overlayImg = null;
    if (campaign.overlay) {
      try {
        const blob = await api('/api/campaigns/' + enc(campaign.id) + '/overlay', { signal: ctx.signal, responseType: 'blob', headers: { Accept: 'image/*' } });
        const u = URL.createObjectURL(blob); urls.push(u);
        const img = new Image(); img.src = u; await img.decode();
        overlayImg = img;
      } catch (err) { if (err.name === 'AbortError') return; }
    }
    overlayInfo.textContent = campaign.overlay
      ? 'Overlay ' + campaign.overlay.width + ' × ' + campaign.overlay.height + ' px. Downloads are made at this size.'
      : 'No overlay yet: the public page tints photos red. Upload a PNG with a transparent middle (1080 × 1080 or 1080 × 1350 works well).';
    removeBtn.hidden = !campaign.overlay || readOnly;
    drawPreview();
  }

  clear(overlayCard).append(
    h('div', { class: 'card-header' }, h('div', null, h('h2', { class: 'card-title' }, 'Overlay'), h('p', { class: 'card-subtitle' }, 'The frame drawn over every participant\'s photo.'))),
    h('div', { class: 'card-body cmp-overlay' },
      h('div', { class: 'cmp-preview-wrap' }, preview),
      h('div', { class: 'cmp-overlay-side' }, overlayInfo,
        readOnly ? null : h('div', { class: 'file-row mt-4' },
          h('label', { class: 'btn btn-secondary btn-sm', for: 'cmp-overlay-file' }, icon('upload', { size: 14 }), campaign.overlay ? 'Replace overlay' : 'Upload overlay'),
          overlayInput, removeBtn),
        h('p', { class: 'hint mt-4' }, 'PNG, JPEG or WebP, up to 10 MB and 25 megapixels.'))));
  loadOverlay();

  overlayInput.addEventListener('change', async () => {
    const file = overlayInput.files && overlayInput.files[0];
    overlayInput.value = '';
    if (!file) return;
    try {
      campaign = await api('/api/campaigns/' + enc(campaign.id) + '/overlay', { method: 'PUT', body: file, headers: { 'Content-Type': file.type || 'application/octet-stream' } });
      ctx.toast('Overlay uploaded.', 'success');
      overlayCard.querySelector('label.btn').lastChild.textContent = 'Replace overlay';
      loadOverlay();
    } catch (err) { ctx.toast('Upload failed: ' + err.message, 'error'); }
  });
  removeBtn.addEventListener('click', async () => {
    const ok = await confirmDialog({ title: 'Remove the overlay?', text: 'The public page falls back to a red tint until you upload another.', confirmLabel: 'Remove', danger: true });
    if (!ok) return;
    try {
      campaign = await del('/api/campaigns/' + enc(campaign.id) + '/overlay');
      ctx.toast('Overlay removed.', 'success');
      loadOverlay();
    } catch (err) { ctx.toast(err.message, 'error'); }
  });

  // ---------- entries ----------
  const platformFilter = h('select', { class: 'select', id: 'cmp-filter-platform', 'aria-label': 'Platform' },
    h('option', { value: '' }, 'All platforms'), PLATFORMS.map(([pid, label]) => h('option', { value: pid }, label)));
  const statusFilter = h('select', { class: 'select', id: 'cmp-filter-status', 'aria-label': 'Status' },
    h('option', { value: '' }, 'Any status'), Object.entries(ENTRY_STATUS).map(([s, [label]]) => h('option', { value: s }, label)));
  const exportBtn = h('button', { class: 'btn btn-secondary btn-sm', type: 'button', id: 'cmp-export' }, icon('download', { size: 14 }), 'Export CSV');
  const refreshBtn = h('button', { class: 'btn-icon btn-icon-sm', type: 'button', id: 'cmp-refresh', 'aria-label': 'Refresh entries', title: 'Refresh' }, icon('refresh', { size: 16 }));
  const entriesBody = h('div', { id: 'cmp-entries' });
  const entriesCount = h('span', { class: 'card-subtitle', id: 'cmp-entries-count' });
  root.append(h('section', { class: 'card', id: 'cmp-entries-card' },
    h('div', { class: 'card-header card-header-tools' },
      h('div', null, h('h2', { class: 'card-title' }, 'Entries'), entriesCount),
      h('div', { class: 'card-tools cmp-filters' }, platformFilter, statusFilter, refreshBtn, exportBtn)),
    entriesBody));

  const query = () => {
    const q = new URLSearchParams();
    if (platformFilter.value) q.set('platform', platformFilter.value);
    if (statusFilter.value) q.set('status', statusFilter.value);
    const s = q.toString();
    return s ? '?' + s : '';
  };

  // Filters and Refresh keep the table in place while the new list loads.
  function loadEntries() {
    return loadInto(entriesBody, () => get('/api/campaigns/' + enc(campaign.id) + '/submissions' + query(), { signal: ctx.signal }), showEntries, { lines: 3, keep: true });
  }

  function showEntries(data) {
    const list = data.submissions || [];
    entriesCount.textContent = list.length + (list.length === 1 ? ' entry' : ' entries') + (query() ? ' match the filters' : '');
    if (!list.length) {
      clear(entriesBody).append(emptyState({
        iconName: 'users', level: 3,
        title: query() ? 'No entries match' : 'No entries yet',
        text: query() ? 'Try another platform or status.' : 'Share the public page; entries appear here as people submit their posts.',
      }));
      return;
    }
    clear(entriesBody).append(h('div', { class: 'table-wrap' }, h('table', { class: 'table cmp-entries-table' },
      h('thead', null, h('tr', null,
        h('th', { scope: 'col' }, 'Post'), h('th', { scope: 'col' }, 'Who'),
        h('th', { scope: 'col', class: 'hide-mobile' }, 'Submitted'), h('th', { scope: 'col' }, 'Status'),
        h('th', { scope: 'col', class: 'col-actions' }, h('span', { class: 'sr-only' }, 'Review')))),
      h('tbody', null, list.map(entryRow)))));
  }

  function entryRow(s) {
    const statusCell = h('td', null, entryBadge(s.status));
    const who = [s.name, s.handle].filter(Boolean).join(' · ');
    const actions = h('div', { class: 'cmp-row-actions' });
    const row = h('tr', { class: 'cmp-entry', dataset: { id: s.id, platform: s.platform, status: s.status } },
      h('td', { class: 'cmp-entry-post' },
        h('span', { class: 'badge badge-neutral cmp-platform-badge' }, PLATFORM_LABEL[s.platform] || s.platform),
        // rel=noopener noreferrer: the link is participant-supplied (https and on-platform, checked by the server).
        h('a', { class: 'cmp-entry-url', href: s.url, target: '_blank', rel: 'noopener noreferrer nofollow' }, s.url)),
      h('td', null, h('div', { class: 'cmp-who' }, who || h('span', { class: 'col-muted' }, 'Anonymous')),
        s.email ? h('div', { class: 'cmp-sub' }, s.email) : null),
      h('td', { class: 'col-muted hide-mobile' }, formatDate(s.createdAt, { time: true })),
      statusCell, h('td', { class: 'col-actions' }, actions));
    function drawActions() {
      clear(actions);
      if (readOnly) return;
      if (s.status !== 'approved') actions.append(h('button', { class: 'btn btn-secondary btn-sm cmp-approve', type: 'button', onclick: () => review('approved') }, icon('check', { size: 14 }), 'Approve'));
      if (s.status !== 'rejected') actions.append(h('button', { class: 'btn btn-ghost btn-sm cmp-reject', type: 'button', onclick: () => review('rejected') }, 'Reject'));
    }
    async function review(status) {
      try {
        const updated = await patch('/api/campaigns/' + enc(campaign.id) + '/submissions/' + enc(s.id), { status });
        Object.assign(s, updated);
        row.dataset.status = s.status;
        clear(statusCell).append(entryBadge(s.status));
        drawActions();
      } catch (err) { ctx.toast(err.message, 'error'); }
    }
    drawActions();
    return row;
  }

  platformFilter.addEventListener('change', loadEntries);
  statusFilter.addEventListener('change', loadEntries);
  refreshBtn.addEventListener('click', loadEntries);
  exportBtn.addEventListener('click', async () => {
    try {
      const blob = await api('/api/campaigns/' + enc(campaign.id) + '/submissions/export' + query(), { responseType: 'blob', headers: { Accept: 'text/csv' } });
      downloadBlob(blob, 'campaign-entries.csv');
    } catch (err) { ctx.toast('Export failed: ' + err.message, 'error'); }
  });
  loadEntries();
  return cleanup;
}

function entryBadge(status) {
  const [label, tone] = ENTRY_STATUS[status] || [status, 'neutral'];
  const b = badge(label, tone);
  b.classList.add('cmp-entry-status');
  return b;
}
