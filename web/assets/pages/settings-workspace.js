// Settings → Workspace: GET/PATCH /api/tenant (name, timezone).
import { get, patch } from '../api.js';
import { h, pageHeader, loadInto, formatDate } from '../ui.js';

function timezones(current) {
  let zones = [];
  try { zones = Intl.supportedValuesOf('timeZone'); } catch { zones = []; }
  if (!zones.includes('UTC')) zones = ['UTC', ...zones];
  if (current && !zones.includes(current)) zones = [current, ...zones];
  return zones;
}

export default async function render(root, ctx) {
  root.append(pageHeader({
    title: 'Workspace',
    description: 'The name and time zone of this workspace. Schedules, reports and dates use the time zone.',
  }));
  const body = h('div');
  root.append(body);

  function load() {
    return loadInto(body, () => get('/api/tenant', { signal: ctx.signal }), (tenant) => [form(tenant), details(tenant)], { lines: 4, frame: 'card' });
  }

  function form(tenant) {
    const editable = ctx.canManage;
    let saved = { name: tenant.name, timezone: tenant.timezone };

    const nameInput = h('input', {
      class: 'input', id: 'ws-name', name: 'name', value: tenant.name, maxlength: '80',
      required: true, autocomplete: 'organization', disabled: !editable, 'aria-describedby': 'ws-name-error',
    });
    const nameError = h('p', { class: 'field-error', id: 'ws-name-error', role: 'alert' });
    const tzSelect = h('select', { class: 'select', id: 'ws-timezone', name: 'timezone', disabled: !editable, 'aria-describedby': 'ws-tz-hint ws-tz-error' });
    for (const z of timezones(tenant.timezone)) tzSelect.append(h('option', { value: z, selected: z === tenant.timezone }, z.replace(/_/g, ' ')));
    const tzError = h('p', { class: 'field-error', id: 'ws-tz-error', role: 'alert' });
    const saveBtn = h('button', { class: 'btn btn-primary', type: 'submit', id: 'ws-save', disabled: true }, 'Save changes');
    const resetBtn = h('button', { class: 'btn btn-ghost', type: 'button', disabled: true }, 'Discard');
    const note = h('span', { class: 'card-footer-note', id: 'ws-status' },
      editable ? 'Changes apply to everyone in this workspace.' : 'Only owners and admins can change workspace settings.');

    function dirty() {
      return nameInput.value.trim() !== saved.name || tzSelect.value !== saved.timezone;
    }
    function sync() {
      const d = editable && dirty();
      saveBtn.disabled = !d;
      resetBtn.disabled = !d;
    }
    function clearErrors() {
      nameError.textContent = '';
      tzError.textContent = '';
      nameInput.removeAttribute('aria-invalid');
      tzSelect.removeAttribute('aria-invalid');
    }
    nameInput.addEventListener('input', () => { clearErrors(); sync(); });
    tzSelect.addEventListener('change', () => { clearErrors(); sync(); });
    resetBtn.addEventListener('click', () => {
      nameInput.value = saved.name;
      tzSelect.value = saved.timezone;
      clearErrors();
      sync();
    });

    const formEl = h('form', { class: 'card', id: 'workspace-form', novalidate: true },
      h('div', { class: 'card-header' },
        h('div', null,
          h('h2', { class: 'card-title' }, 'General'),
          h('p', { class: 'card-subtitle' }, 'Shown in the top bar and in messages your bots send.'))),
      h('div', { class: 'card-body' },
        h('div', { class: 'grid grid-2' },
          h('div', { class: 'field' },
            h('label', { class: 'label', for: 'ws-name' }, 'Workspace name'),
            nameInput, nameError),
          h('div', { class: 'field' },
            h('label', { class: 'label', for: 'ws-timezone' }, 'Time zone'),
            tzSelect,
            h('p', { class: 'hint', id: 'ws-tz-hint' }, 'Used for schedules, daily recaps and reports.'),
            tzError))),
      h('div', { class: 'card-footer' }, note, resetBtn, saveBtn));

    formEl.addEventListener('submit', async (e) => {
      e.preventDefault();
      if (!editable || !dirty()) return;
      clearErrors();
      const name = nameInput.value.trim();
      if (!name) {
        nameError.textContent = 'Enter a name for the workspace.';
        nameInput.setAttribute('aria-invalid', 'true');
        nameInput.focus();
        return;
      }
      const changes = {};
      if (name !== saved.name) changes.name = name;
      if (tzSelect.value !== saved.timezone) changes.timezone = tzSelect.value;
      saveBtn.disabled = true;
      saveBtn.textContent = 'Saving…';
      try {
        const updated = await patch('/api/tenant', changes);
        saved = { name: updated.name, timezone: updated.timezone };
        nameInput.value = updated.name;
        tzSelect.value = updated.timezone;
        ctx.toast('Workspace saved', 'success');
        ctx.refreshMe().catch(() => {});
      } catch (err) {
        if (err.status === 422) {
          const target = /time ?zone/i.test(err.message) ? [tzError, tzSelect] : [nameError, nameInput];
          target[0].textContent = err.message;
          target[1].setAttribute('aria-invalid', 'true');
          target[1].focus();
        } else {
          ctx.toast(err.message, 'error');
        }
      } finally {
        saveBtn.textContent = 'Save changes';
        sync();
      }
    });
    return formEl;
  }

  function details(tenant) {
    return h('section', { class: 'card' },
      h('div', { class: 'card-header' }, h('h2', { class: 'card-title' }, 'Details')),
      h('div', { class: 'card-body' },
        h('dl', { class: 'kv' },
          h('dt', null, 'Slug'), h('dd', null, h('code', { id: 'ws-slug' }, tenant.slug)),
          h('dt', null, 'Workspace ID'), h('dd', null, h('code', null, tenant.id)),
          h('dt', null, 'Created'), h('dd', null, formatDate(tenant.createdAt, { time: true })),
          h('dt', null, 'Your role'), h('dd', null, roleText(ctx.me)))));
  }

  await load();
}

function roleText(me) {
  const r = { owner: 'Owner', admin: 'Admin', member: 'Member' }[me.role] || me.role;
  return me.platformAdmin ? r + ' (platform admin)' : r;
}
