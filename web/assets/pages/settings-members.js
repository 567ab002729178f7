// Settings → Members: GET/POST /api/tenant/members, DELETE /api/tenant/members/{id}.
import { get, post, del } from '../api.js';
import { h, clear, icon, pageHeader, loadInto, emptyState, badge, confirmDialog, formatDate, roleLabel, roleTone } from '../ui.js';

const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export default async function render(root, ctx) {
  const editable = ctx.canManage;
  const roles = ['member', 'admin'];
  if (ctx.me.role === 'owner' || ctx.me.platformAdmin) roles.push('owner');

  const count = h('span', { class: 'badge badge-neutral', id: 'member-count' }, '…');
  root.append(pageHeader({
    title: 'Members',
    description: 'People who can sign in to this workspace and what they may do.',
  }));

  const listCard = h('section', { class: 'card', 'aria-labelledby': 'members-title' },
    h('div', { class: 'card-header' },
      h('div', null,
        h('h2', { class: 'card-title', id: 'members-title' }, 'Team ', count),
        h('p', { class: 'card-subtitle' }, 'Owners manage everything, admins manage content and members, members use the dashboard.'))));
  const listBody = h('div');
  listCard.append(listBody);

  root.append(editable ? addForm() : h('div', { class: 'callout mb-5' },
    icon('info', { size: 18 }), h('span', null, 'Only owners and admins can add or remove members.')), listCard);

  let members = [];

  function load() {
    return loadInto(listBody, () => get('/api/tenant/members', { signal: ctx.signal }), (data) => {
      members = Array.isArray(data && data.members) ? data.members : [];
      renderList();
    });
  }

  function renderList() {
    count.textContent = String(members.length);
    clear(listBody);
    if (!members.length) {
      listBody.append(emptyState({
        iconName: 'users',
        title: 'No members yet',
        text: editable ? 'Add a teammate by email above. They sign in with that address.' : 'Nobody has been added to this workspace yet.',
      }));
      return;
    }
    const rows = members.map((m) => {
      const isMe = ctx.me.email && m.email && m.email.toLowerCase() === ctx.me.email.toLowerCase();
      const removeBtn = editable
        ? h('button', {
          class: 'btn btn-danger-ghost btn-sm', type: 'button',
          'aria-label': 'Remove ' + m.email, 'data-action': 'remove',
          onclick: () => remove(m, removeBtn),
        }, icon('trash', { size: 16 }), h('span', { class: 'hide-mobile' }, 'Remove'))
        : null;
      return h('tr', { 'data-member-id': m.id },
        h('td', null, h('div', { class: 'person' },
          h('span', { class: 'avatar', 'aria-hidden': 'true' }, (m.email || '?')[0]),
          h('span', { class: 'person-name' }, m.email),
          isMe ? badge('You', 'neutral') : null)),
        h('td', null, badge(roleLabel(m.role), roleTone(m.role))),
        h('td', { class: 'col-muted hide-mobile' }, formatDate(m.createdAt)),
        h('td', { class: 'col-actions' }, removeBtn));
    });
    listBody.append(h('div', { class: 'table-wrap' },
      h('table', { class: 'table', id: 'members-table' },
        h('thead', null, h('tr', null,
          h('th', { scope: 'col' }, 'Email'),
          h('th', { scope: 'col' }, 'Role'),
          h('th', { scope: 'col', class: 'hide-mobile' }, 'Added'),
          h('th', { scope: 'col', class: 'col-actions' }, h('span', { class: 'sr-only' }, 'Actions')))),
        h('tbody', null, rows))));
  }

  async function remove(member, btn) {
    const ok = await confirmDialog({
      title: 'Remove member?',
      text: member.email + ' will lose access to this workspace immediately.',
      confirmLabel: 'Remove member',
      danger: true,
    });
    if (!ok) return;
    btn.disabled = true;
    try {
      await del('/api/tenant/members/' + encodeURIComponent(member.id));
      members = members.filter((m) => m.id !== member.id);
      renderList();
      ctx.toast(member.email + ' was removed', 'success');
    } catch (err) {
      btn.disabled = false;
      ctx.toast(err.message, 'error');
    }
  }

  function addForm() {
    const email = h('input', {
      class: 'input', id: 'member-email', name: 'email', type: 'email', placeholder: 'name@company.com',
      autocomplete: 'off', required: true, 'aria-describedby': 'member-error',
    });
    const role = h('select', { class: 'select', id: 'member-role', name: 'role' },
      roles.map((r) => h('option', { value: r, selected: r === 'member' }, roleLabel(r))));
    const error = h('p', { class: 'field-error', id: 'member-error', role: 'alert' });
    const submit = h('button', { class: 'btn btn-primary', type: 'submit', id: 'member-add' }, icon('plus', { size: 16 }), 'Add member');

    const formEl = h('form', { class: 'card mb-5', id: 'member-form', novalidate: true, 'aria-labelledby': 'member-form-title' },
      h('div', { class: 'card-header' },
        h('div', null,
          h('h2', { class: 'card-title', id: 'member-form-title' }, 'Add a member'),
          h('p', { class: 'card-subtitle' }, 'They sign in with this email address and get the role you pick.'))),
      h('div', { class: 'card-body' },
        h('div', { class: 'form-row' },
          h('div', { class: 'field' }, h('label', { class: 'label', for: 'member-email' }, 'Email address'), email),
          h('div', { class: 'field field-narrow' }, h('label', { class: 'label', for: 'member-role' }, 'Role'), role),
          submit),
        error));
    email.addEventListener('input', () => { error.textContent = ''; email.removeAttribute('aria-invalid'); });

    formEl.addEventListener('submit', async (e) => {
      e.preventDefault();
      error.textContent = '';
      const value = email.value.trim();
      if (!EMAIL_RE.test(value)) {
        error.textContent = 'Enter a valid email address.';
        email.setAttribute('aria-invalid', 'true');
        email.focus();
        return;
      }
      submit.disabled = true;
      try {
        const member = await post('/api/tenant/members', { email: value, role: role.value });
        members = [...members.filter((m) => m.id !== member.id), member];
        renderList();
        email.value = '';
        role.value = 'member';
        ctx.toast(member.email + ' was added as ' + roleLabel(member.role).toLowerCase(), 'success');
        email.focus();
      } catch (err) {
        error.textContent = err.message;
        email.setAttribute('aria-invalid', 'true');
        email.focus();
      } finally {
        submit.disabled = false;
      }
    });
    return formEl;
  }

  await load();
}
