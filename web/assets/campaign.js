// Public campaign page (/campaign/<id>): details and countdown, the participant's photo composited
// with the campaign overlay on a canvas (cover-fit, drag, pinch and wheel zoom; a red tint when
// there is no overlay), a full-resolution download, and the entry form.
// The geometry matches crates/render/src/composite.rs, so the server's composite is the same picture.
import { api } from './api.js';
import { h, clear, icon, downloadBlob } from './ui.js';

const DEFAULT_CANVAS = [1080, 1080];
const MAX_ZOOM = 8;
const TINT = 'rgba(220, 38, 38, 0.35)';
const STATUS = {
  upcoming: { label: 'Starts soon', tone: 'info' },
  active: { label: 'Open for entries', tone: 'success' },
  paused: { label: 'Paused', tone: 'warning' },
  ended: { label: 'Ended', tone: 'neutral' },
};
const HINT = {
  instagram: 'https://www.instagram.com/p/…',
  tiktok: 'https://www.tiktok.com/@you/video/…',
  x: 'https://x.com/you/status/…',
  facebook: 'https://www.facebook.com/…/posts/…',
  telegram: 'https://t.me/channel/123',
  youtube: 'https://youtu.be/…',
};

const root = document.getElementById('cp-root');
const id = decodeURIComponent(location.pathname.split('/').filter(Boolean)[1] || '');
const enc = encodeURIComponent;

/** The photo's drawn rectangle on a cw×ch canvas: {x, y, scale} (see composite.rs). */
export function photoRect(pw, ph, cw, ch, p) {
  const zoom = Number.isFinite(p.zoom) ? Math.min(Math.max(p.zoom, 1), MAX_ZOOM) : 1;
  const scale = Math.max(cw / pw, ch / ph) * zoom;
  const dw = pw * scale, dh = ph * scale;
  const fin = (v) => (Number.isFinite(v) ? v : 0);
  const x = Math.min(Math.max((cw - dw) / 2 + fin(p.offsetX) * cw, cw - dw), 0);
  const y = Math.min(Math.max((ch - dh) / 2 + fin(p.offsetY) * ch, ch - dh), 0);
  return { x, y, scale, dw, dh };
}

function formatLeft(ms) {
  if (ms <= 0) return '0s';
  const s = Math.floor(ms / 1000);
  const d = Math.floor(s / 86400), hr = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
  const pad = (n) => String(n).padStart(2, '0');
  return (d ? d + 'd ' : '') + pad(hr) + ':' + pad(m) + ':' + pad(sec);
}

function formatWhen(ms) {
  return new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(ms));
}

function slugify(text) {
  return String(text).toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40) || 'campaign';
}

async function loadBitmap(blob) {
  if ('createImageBitmap' in window) {
    try { return await createImageBitmap(blob, { imageOrientation: 'from-image' }); } catch { /* fall back */ }
  }
  const url = URL.createObjectURL(blob);
  try {
    const img = new Image();
    img.decoding = 'async';
    img.src = url;
    await img.decode();
    return img;
  } finally {
    URL.revokeObjectURL(url);
  }
}

const dims = (img) => [img.naturalWidth || img.width, img.naturalHeight || img.height];

async function main() {
  let campaign;
  try {
    campaign = await api('/api/campaigns/' + enc(id) + '/public', { redirectOn401: false });
  } catch (err) {
    const missing = err.status === 404 || err.status === 400;
    clear(root).append(h('section', { class: 'card cp-card cp-missing', id: 'cp-missing' },
      h('div', { class: 'empty-state' },
        h('div', { class: 'empty-state-icon' }, icon(missing ? 'flag' : 'alert', { size: 28 })),
        h('h1', { class: 'empty-state-title' }, missing ? 'Campaign not found' : 'Could not load the campaign'),
        h('p', { class: 'empty-state-text' }, missing
          ? 'Check the link you were given: this campaign does not exist or was removed.'
          : err.message))));
    return;
  }
  document.title = campaign.title + ' · PromoStack';
  // Offset between the server's clock and this device's, so the countdown is right on phones
  // with a wrong clock.
  const skew = campaign.now - Date.now();
  const serverNow = () => Date.now() + skew;

  let overlay = null;
  if (campaign.overlay) {
    try {
      const blob = await api('/api/campaigns/' + enc(id) + '/public/overlay', { responseType: 'blob', headers: { Accept: 'image/*' }, redirectOn401: false });
      overlay = await loadBitmap(blob);
    } catch { overlay = null; }
  }
  const [cw, ch] = overlay ? dims(overlay) : DEFAULT_CANVAS;

  // ---------- hero ----------
  const statusBadge = h('span', { class: 'badge', id: 'cp-status' });
  const countdown = h('p', { class: 'cp-countdown', id: 'cp-countdown' });
  const hero = h('section', { class: 'card cp-card cp-hero' },
    h('div', { class: 'cp-hero-top' }, statusBadge,
      h('span', { class: 'cp-platforms', 'aria-label': 'Post on' },
        campaign.platforms.map((p) => h('span', { class: 'cp-chip' }, p.label)))),
    h('h1', { class: 'cp-title', id: 'cp-title' }, campaign.title),
    campaign.description ? h('p', { class: 'cp-description', id: 'cp-description' }, campaign.description) : null,
    countdown);

  // ---------- step 1: photo ----------
  const canvas = h('canvas', { class: 'cp-canvas', id: 'cp-canvas', role: 'img', 'aria-label': 'Your photo with the campaign frame' });
  const stage = h('div', { class: 'cp-stage', id: 'cp-stage' }, canvas);
  stage.style.aspectRatio = cw + ' / ' + ch;
  const fileInput = h('input', { type: 'file', accept: 'image/*', id: 'cp-photo-input', class: 'sr-only' });
  const pickLabel = h('label', { class: 'btn btn-primary btn-lg cp-pick', for: 'cp-photo-input', id: 'cp-pick' }, icon('upload', { size: 18 }), 'Choose a photo');
  const placeholder = h('div', { class: 'cp-stage-empty', id: 'cp-stage-empty' },
    h('div', { class: 'empty-state-icon' }, icon('upload', { size: 26 })),
    h('p', null, 'Pick a photo from your phone. It stays on your device.'));
  stage.append(placeholder);
  const zoomRange = h('input', { type: 'range', class: 'range cp-zoom', id: 'cp-zoom', min: '1', max: String(MAX_ZOOM), step: '0.01', value: '1', 'aria-label': 'Zoom', disabled: true });
  const resetBtn = h('button', { class: 'btn btn-ghost btn-sm', type: 'button', id: 'cp-reset', disabled: true }, icon('refresh', { size: 14 }), 'Reset');
  const tools = h('div', { class: 'cp-tools' },
    h('span', { class: 'cp-tools-hint' }, 'Drag to move · pinch or scroll to zoom'),
    h('div', { class: 'cp-zoom-row' }, icon('eye', { size: 16 }), zoomRange, resetBtn));
  const downloadBtn = h('button', { class: 'btn btn-secondary btn-block', type: 'button', id: 'cp-download', disabled: true }, icon('download', { size: 16 }), 'Download photo');
  const sizeNote = h('p', { class: 'hint cp-size' }, 'Full resolution: ' + cw + ' × ' + ch + ' px' + (overlay ? '' : ' · this campaign has no frame yet, a red tint is used'));
  const photoCard = h('section', { class: 'card cp-card', 'aria-labelledby': 'cp-step1' },
    h('h2', { class: 'cp-step', id: 'cp-step1' }, h('span', { class: 'cp-step-n' }, '1'), 'Make your photo'),
    stage, tools, h('div', { class: 'cp-actions' }, pickLabel, fileInput), downloadBtn, sizeNote);

  // ---------- step 2: entry ----------
  const allowed = campaign.platforms.map((p) => p.label).join(', ');
  const urlInput = h('input', { class: 'input', id: 'cp-url', name: 'url', type: 'url', inputmode: 'url', autocomplete: 'url', required: true, maxlength: '2048', placeholder: HINT[campaign.platforms[0] && campaign.platforms[0].id] || 'https://…', 'aria-describedby': 'cp-url-hint cp-error' });
  const nameInput = h('input', { class: 'input', id: 'cp-name', name: 'name', autocomplete: 'name', maxlength: '80' });
  const handleInput = h('input', { class: 'input', id: 'cp-handle', name: 'handle', autocomplete: 'nickname', maxlength: '64', placeholder: '@you' });
  const emailInput = h('input', { class: 'input', id: 'cp-email', name: 'email', type: 'email', autocomplete: 'email', maxlength: '254' });
  const errorBox = h('p', { class: 'field-error cp-error', id: 'cp-error', role: 'alert' });
  const submitBtn = h('button', { class: 'btn btn-primary btn-lg btn-block', type: 'submit', id: 'cp-submit' }, h('span', { class: 'btn-label' }, 'Submit my entry'));
  const closedNote = h('div', { class: 'callout callout-warning', id: 'cp-closed', hidden: true }, icon('clock', { size: 18 }), h('span', { id: 'cp-closed-text' }));
  const form = h('form', { id: 'cp-entry-form', novalidate: true },
    closedNote,
    h('div', { class: 'field' },
      h('label', { class: 'label', for: 'cp-url' }, 'Link to your post'),
      urlInput,
      h('p', { class: 'hint', id: 'cp-url-hint' }, 'Post the photo on ' + allowed + ', then paste the link here.')),
    h('div', { class: 'field' }, h('label', { class: 'label', for: 'cp-name' }, 'Name ', h('span', { class: 'cp-optional' }, 'optional')), nameInput),
    h('div', { class: 'cp-pair' },
      h('div', { class: 'field' }, h('label', { class: 'label', for: 'cp-handle' }, 'Handle ', h('span', { class: 'cp-optional' }, 'optional')), handleInput),
      h('div', { class: 'field' }, h('label', { class: 'label', for: 'cp-email' }, 'Email ', h('span', { class: 'cp-optional' }, 'optional')), emailInput)),
    errorBox, submitBtn,
    h('p', { class: 'hint cp-privacy' }, icon('lock', { size: 13 }), 'Only the campaign team sees your entry. Email is used to contact winners.'));
  const entryCard = h('section', { class: 'card cp-card', 'aria-labelledby': 'cp-step2' },
    h('h2', { class: 'cp-step', id: 'cp-step2' }, h('span', { class: 'cp-step-n' }, '2'), 'Post it and enter'),
    form);

  clear(root).append(hero, photoCard, entryCard);

  // ---------- status + countdown ----------
  let status = campaign.status;
  function currentStatus() {
    const now = serverNow();
    if (now >= campaign.endsAt) return 'ended';
    if (campaign.status === 'paused') return 'paused';
    return now < campaign.startsAt ? 'upcoming' : 'active';
  }
  function tick() {
    status = currentStatus();
    const s = STATUS[status];
    statusBadge.className = 'badge badge-' + s.tone;
    statusBadge.textContent = s.label;
    const now = serverNow();
    if (status === 'upcoming') countdown.textContent = 'Opens in ' + formatLeft(campaign.startsAt - now) + ' · ' + formatWhen(campaign.startsAt);
    else if (status === 'active') countdown.textContent = 'Closes in ' + formatLeft(campaign.endsAt - now) + ' · ' + formatWhen(campaign.endsAt);
    else if (status === 'paused') countdown.textContent = 'Entries are paused for now. Ends ' + formatWhen(campaign.endsAt) + '.';
    else countdown.textContent = 'Ended ' + formatWhen(campaign.endsAt) + '. Thanks to everyone who took part!';
    const closed = status !== 'active';
    closedNote.hidden = !closed;
    if (closed) {
      document.getElementById('cp-closed-text').textContent = status === 'upcoming'
        ? 'Entries open ' + formatWhen(campaign.startsAt) + '. You can already make your photo.'
        : status === 'paused' ? 'Entries are paused. Come back a little later.' : 'This campaign has ended; entries are closed.';
    }
    for (const el of [urlInput, nameInput, handleInput, emailInput, submitBtn]) el.disabled = closed || submitted;
  }
  let submitted = false;
  tick();
  const timer = setInterval(tick, 1000);
  window.addEventListener('pagehide', () => clearInterval(timer));

  // ---------- compositing ----------
  let photo = null;
  const place = { zoom: 1, offsetX: 0, offsetY: 0 };

  function compose(ctx, w, h2) {
    ctx.save();
    ctx.fillStyle = '#000';
    ctx.fillRect(0, 0, w, h2);
    const k = w / cw; // display scale: geometry is computed at full resolution
    if (photo) {
      const [pw, ph] = dims(photo);
      const r = photoRect(pw, ph, cw, ch, place);
      ctx.imageSmoothingQuality = 'high';
      ctx.drawImage(photo, r.x * k, r.y * k, r.dw * k, r.dh * k);
    }
    if (overlay) ctx.drawImage(overlay, 0, 0, w, h2);
    else { ctx.fillStyle = TINT; ctx.fillRect(0, 0, w, h2); }
    ctx.restore();
  }

  let frame = 0;
  function draw() {
    cancelAnimationFrame(frame);
    frame = requestAnimationFrame(() => {
      const rect = stage.getBoundingClientRect();
      const dpr = Math.min(window.devicePixelRatio || 1, 3);
      const w = Math.max(1, Math.round(rect.width * dpr));
      const h2 = Math.max(1, Math.round(w * ch / cw));
      if (canvas.width !== w || canvas.height !== h2) { canvas.width = w; canvas.height = h2; }
      compose(canvas.getContext('2d'), w, h2);
    });
  }
  new ResizeObserver(draw).observe(stage);
  draw();

  /** Keep the placement inside the covering range so the numbers always mean what is shown. */
  function clampPlace() {
    if (!photo) return;
    const [pw, ph] = dims(photo);
    place.zoom = Math.min(Math.max(place.zoom, 1), MAX_ZOOM);
    const r = photoRect(pw, ph, cw, ch, place);
    place.offsetX = (r.x - (cw - r.dw) / 2) / cw;
    place.offsetY = (r.y - (ch - r.dh) / 2) / ch;
    zoomRange.value = String(place.zoom);
    canvas.dataset.zoom = place.zoom.toFixed(3);
    canvas.dataset.offsetX = place.offsetX.toFixed(4);
    canvas.dataset.offsetY = place.offsetY.toFixed(4);
  }

  fileInput.addEventListener('change', async () => {
    const file = fileInput.files && fileInput.files[0];
    fileInput.value = '';
    if (!file) return;
    if (!/^image\//.test(file.type || 'image/')) { showError('That file is not an image.'); return; }
    if (file.size > 40 * 1024 * 1024) { showError('That photo is larger than 40 MB; pick a smaller one.'); return; }
    try {
      photo = await loadBitmap(file);
    } catch {
      showError('Could not open that photo. Try a JPEG or PNG.');
      return;
    }
    clearError();
    Object.assign(place, { zoom: 1, offsetX: 0, offsetY: 0 });
    clampPlace();
    placeholder.hidden = true;
    stage.classList.add('has-photo');
    zoomRange.disabled = false;
    resetBtn.disabled = false;
    downloadBtn.disabled = false;
    pickLabel.lastChild.textContent = 'Choose another photo';
    canvas.dataset.ready = 'true';
    draw();
  });

  // Drag with one pointer, pinch with two.
  const pointers = new Map();
  let pinch = null;
  stage.addEventListener('pointerdown', (e) => {
    if (!photo) return;
    try { stage.setPointerCapture(e.pointerId); } catch { /* pointer already gone */ }
    pointers.set(e.pointerId, { x: e.clientX, y: e.clientY });
    if (pointers.size === 2) {
      const [a, b] = [...pointers.values()];
      pinch = { dist: Math.hypot(a.x - b.x, a.y - b.y) || 1, zoom: place.zoom };
    }
  });
  stage.addEventListener('pointermove', (e) => {
    const prev = pointers.get(e.pointerId);
    if (!prev || !photo) return;
    const now = { x: e.clientX, y: e.clientY };
    pointers.set(e.pointerId, now);
    const rect = stage.getBoundingClientRect();
    if (pointers.size === 1) {
      place.offsetX += (now.x - prev.x) / rect.width;
      place.offsetY += (now.y - prev.y) / rect.height;
    } else if (pointers.size === 2 && pinch) {
      const [a, b] = [...pointers.values()];
      place.zoom = pinch.zoom * (Math.hypot(a.x - b.x, a.y - b.y) / pinch.dist);
    }
    clampPlace();
    draw();
  });
  const release = (e) => {
    pointers.delete(e.pointerId);
    if (pointers.size < 2) pinch = null;
  };
  stage.addEventListener('pointerup', release);
  stage.addEventListener('pointercancel', release);
  stage.addEventListener('wheel', (e) => {
    if (!photo) return;
    e.preventDefault();
    place.zoom *= Math.exp(-e.deltaY * 0.0015);
    clampPlace();
    draw();
  }, { passive: false });
  zoomRange.addEventListener('input', () => { place.zoom = Number(zoomRange.value); clampPlace(); draw(); });
  resetBtn.addEventListener('click', () => { Object.assign(place, { zoom: 1, offsetX: 0, offsetY: 0 }); clampPlace(); draw(); });

  downloadBtn.addEventListener('click', () => {
    if (!photo) return;
    // Full resolution: the overlay's own size (or 1080×1080), never the screen's.
    const out = document.createElement('canvas');
    out.width = cw;
    out.height = ch;
    compose(out.getContext('2d'), cw, ch);
    out.toBlob((blob) => {
      if (!blob) { showError('Your browser could not create the image.'); return; }
      downloadBlob(blob, slugify(campaign.title) + '-photo.png');
      downloadBtn.lastChild.textContent = 'Downloaded — download again';
    }, 'image/png');
  });

  // ---------- entry ----------
  function showError(message) {
    errorBox.textContent = message;
    urlInput.setAttribute('aria-invalid', 'true');
  }
  function clearError() {
    errorBox.textContent = '';
    urlInput.removeAttribute('aria-invalid');
  }
  urlInput.addEventListener('input', clearError);

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearError();
    const url = urlInput.value.trim();
    if (!url) { showError('Paste the link to your post.'); urlInput.focus(); return; }
    if (!/^https:\/\//i.test(url)) { showError('The link must start with https://'); urlInput.focus(); return; }
    const body = { url };
    for (const [k, el] of [['name', nameInput], ['handle', handleInput], ['email', emailInput]]) {
      const v = el.value.trim();
      if (v) body[k] = v;
    }
    submitBtn.disabled = true;
    submitBtn.querySelector('.btn-label').textContent = 'Submitting…';
    try {
      await api('/api/campaigns/' + enc(id) + '/submissions', { method: 'POST', body, redirectOn401: false });
      submitted = true;
      clear(entryCard).append(h('div', { class: 'cp-success', id: 'cp-success', tabindex: '-1' },
        h('div', { class: 'cp-success-icon' }, icon('check', { size: 28 })),
        h('h2', { class: 'cp-success-title' }, "You're in!"),
        h('p', null, 'We received your entry. The team reviews every post; good luck!'),
        h('p', { class: 'cp-success-url mono' }, url)));
      document.getElementById('cp-success').focus();
    } catch (err) {
      showError(err.status === 429 ? 'Too many attempts from this connection. Please wait a few minutes and try again.' : capitalise(err.message));
      submitBtn.disabled = false;
      submitBtn.querySelector('.btn-label').textContent = 'Submit my entry';
      if (err.status === 409 && /paused|ended|not started/.test(err.message)) {
        campaign.status = /paused/.test(err.message) ? 'paused' : campaign.status;
        tick();
      }
    }
  });
}

function capitalise(text) {
  const s = String(text || 'Something went wrong.');
  return s.charAt(0).toUpperCase() + s.slice(1) + (/[.!?]$/.test(s) ? '' : '.');
}

main();
