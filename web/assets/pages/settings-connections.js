// Settings → Connections: the workspace's Telegram identities (docs/connections.md).
// GET /api/connections, PUT/DELETE /api/connections/{role}, POST …/{role}/rotate-secret and
// …/{role}/test, and /api/connections/user-account (login, test, sign out). One card per role in a single-column accordion (<details>): status light,
// @username, channels, the rights checklist with what to do for each missing right, actions,
// and the connect form. The token goes in through a password input and never comes back.
import { get, put, post, del } from '../api.js';
import { h, icon, pageHeader, loadInto, confirmDialog, formatDate } from '../ui.js';

const ROLES = [
  {
    id: 'coupon_bot', path: 'coupon-bot', label: 'Coupon Bot', channels: [],
    what: 'The bot people message to generate coupon images.',
  },
  {
    id: 'signal_bot', path: 'signal-bot', label: 'Signal Bot',
    channels: [
      { key: 'vipChannel', label: 'VIP channel', hint: 'Numeric id (-100…) or @username. The bot must be an administrator that can post, invite users and ban users.' },
      { key: 'freeChannel', label: 'FREE channel', hint: 'Optional. The bot must be able to post there.' },
    ],
    what: 'Posts forex signals to the VIP and FREE channels and runs VIP access.',
  },
];

// Check ids from the API → what the checklist says.
const CHECK_LABELS = {
  token: 'Token accepted by Telegram',
  can_post_messages: 'Post messages',
  can_invite_users: 'Invite users via link',
  can_restrict_members: 'Ban users (remove lapsed members)',
  admin: 'Administrator',
  visible: 'Can see the channel',
};

function checkLabel(id) {
  const [scope, right] = String(id).split('.');
  const where = scope === 'vip_channel' ? 'VIP channel: ' : scope === 'free_channel' ? 'FREE channel: ' : '';
  return where + (CHECK_LABELS[right || scope] || (right || scope).replace(/_/g, ' '));
}

/** ok / degraded / not connected, as a light and a word. */
function statusOf(conn) {
  if (!conn) return { tone: 'neutral', text: 'Not connected' };
  if (conn.status === 'ok') return { tone: 'success', text: 'Connected' };
  if (conn.status === 'token_rejected') return { tone: 'danger', text: 'Token rejected' };
  return { tone: 'warning', text: 'Degraded' };
}

function light(conn) {
  const s = statusOf(conn);
  return h('span', { class: 'badge badge-' + s.tone + ' conn-status', 'data-status': conn ? conn.status : 'none' },
    h('span', { class: 'dot' }), s.text);
}

function channelName(ch) {
  if (!ch) return '—';
  return ch.title ? ch.title + ' (' + ch.id + ')' : String(ch.id);
}

export default async function render(root, ctx) {
  const editable = ctx.canManage;
  root.append(pageHeader({
    title: 'Connections',
    description: 'The Telegram bots, channels and account this workspace runs. Every product gets its credentials from here.',
  }));
  const body = h('div', { class: 'conn-list', id: 'connections' });
  root.append(body);
  // Which cards are open survives a reload of the list.
  const open = new Set(['signal_bot']);

  function load() {
    const fetchAll = () => Promise.all([
      get('/api/connections', { signal: ctx.signal }),
      get('/api/connections/user-account', { signal: ctx.signal }),
    ]);
    return loadInto(body, fetchAll, ([data, ua]) => {
      const conns = Array.isArray(data && data.connections) ? data.connections : [];
      const env = Array.isArray(data && data.environment) ? data.environment : [];
      return [
        ...ROLES.map((role) => roleCard(role, conns.find((c) => c.role === role.id) || null, env.find((e) => e.role === role.id) || null)),
        userAccountCard(ua),
      ];
    }, { lines: 4, frame: 'card', keep: true, retry: load });
  }

  function roleCard(role, conn, env) {
    const details = h('details', { class: 'card conn-card', id: 'conn-' + role.path, 'data-role': role.id, open: open.has(role.id) });
    details.addEventListener('toggle', () => { if (details.open) open.add(role.id); else open.delete(role.id); });
    const summary = h('summary', { class: 'conn-summary' },
      h('span', { class: 'conn-summary-text' },
        h('span', { class: 'conn-title' }, role.label),
        h('span', { class: 'conn-sub' }, conn && conn.botUsername ? '@' + conn.botUsername : role.what)),
      light(conn),
      icon('chevronDown', { size: 18 }));
    const content = h('div', { class: 'card-body conn-body' });
    details.append(summary, content);

    if (env) {
      content.append(h('div', { class: 'callout mb-5 conn-env' }, icon('info', { size: 18 }),
        h('span', null, 'Set by the environment (' + env.variables.join(', ') + '): the server connects this bot at every start, so the environment wins over changes made here while those variables are set.')));
    }
    if (conn && conn.statusReason && conn.status !== 'ok') {
      content.append(h('div', { class: 'callout callout-warning mb-5 conn-reason', role: 'alert' }, icon('alert', { size: 18 }), h('span', null, conn.statusReason)));
    }
    if (conn) {
      content.append(h('dl', { class: 'kv' },
        h('dt', null, 'Bot'), h('dd', { class: 'conn-username' }, conn.botUsername ? '@' + conn.botUsername : String(conn.botId)),
        role.channels.map((c) => {
          const ch = conn[c.key];
          return [h('dt', null, c.label), h('dd', { 'data-channel': c.key }, channelName(ch))];
        }),
        h('dt', null, 'Checked'), h('dd', null, formatDate(conn.updatedAt, { time: true }))));
      content.append(checklist(conn.checks || []));
      if (editable) content.append(actions(role, conn));
    }
    if (editable) content.append(connectForm(role, conn));
    else if (!conn) content.append(h('p', { class: 'hint' }, 'Only owners and admins can connect bots.'));
    return details;
  }

  function checklist(checks) {
    if (!checks.length) return null;
    return h('ul', { class: 'checklist', 'aria-label': 'Rights checklist' }, checks.map((c) => h('li', {
      class: 'check ' + (c.ok ? 'check-ok' : 'check-missing'), 'data-check': c.check,
    },
    h('span', { class: 'check-icon', 'aria-hidden': 'true' }, icon(c.ok ? 'check' : 'alert', { size: 16 })),
    h('span', null,
      h('span', { class: 'check-label' }, checkLabel(c.check), h('span', { class: 'sr-only' }, c.ok ? ' (ok)' : ' (missing)')),
      !c.ok && c.message ? h('span', { class: 'check-message' }, c.message) : null))));
  }

  function actions(role, conn) {
    const busy = (btn, fn) => async () => {
      btn.disabled = true;
      try { await fn(); } catch (err) { ctx.toast(err.message, 'error'); } finally { btn.disabled = false; }
    };
    const test = h('button', { class: 'btn btn-secondary btn-sm', type: 'button', 'data-action': 'test' }, icon('broadcast', { size: 16 }), 'Send a test message');
    test.addEventListener('click', busy(test, async () => {
      await post('/api/connections/' + role.path + '/test', {});
      ctx.toast('Test message sent' + (conn.vipChannel ? ' to ' + (conn.vipChannel.title || conn.vipChannel.id) : ''), 'success');
    }));
    const rotate = h('button', { class: 'btn btn-secondary btn-sm', type: 'button', 'data-action': 'rotate' }, icon('refresh', { size: 16 }), 'Rotate secret');
    rotate.addEventListener('click', busy(rotate, async () => {
      await post('/api/connections/' + role.path + '/rotate-secret', {});
      ctx.toast('New webhook secret registered with Telegram', 'success');
      await load();
    }));
    const disconnect = h('button', { class: 'btn btn-danger-ghost btn-sm', type: 'button', 'data-action': 'disconnect' }, icon('trash', { size: 16 }), 'Disconnect');
    disconnect.addEventListener('click', busy(disconnect, async () => {
      const ok = await confirmDialog({
        title: 'Disconnect the ' + role.label + '?',
        text: '@' + (conn.botUsername || conn.botId) + ' stops working for this workspace; its token and webhook secret are deleted.',
        confirmLabel: 'Disconnect',
        danger: true,
      });
      if (!ok) return;
      await del('/api/connections/' + role.path);
      ctx.toast(role.label + ' disconnected', 'success');
      await load();
    }));
    return h('div', { class: 'conn-actions' }, test, rotate, disconnect);
  }

  function connectForm(role, conn) {
    const fieldIds = {};
    const errors = {};
    const inputs = {};
    const field = (key, label, input, hint) => {
      const id = 'conn-' + role.path + '-' + key;
      fieldIds[key] = id;
      input.id = id;
      errors[key] = h('p', { class: 'field-error', id: id + '-error', role: 'alert' });
      input.setAttribute('aria-describedby', id + '-error' + (hint ? ' ' + id + '-hint' : ''));
      input.addEventListener('input', () => { errors[key].textContent = ''; input.removeAttribute('aria-invalid'); });
      inputs[key] = input;
      return h('div', { class: 'field' },
        h('label', { class: 'label', for: id }, label), input,
        hint ? h('p', { class: 'hint', id: id + '-hint' }, hint) : null, errors[key]);
    };
    const token = h('input', {
      class: 'input', type: 'password', name: 'token', autocomplete: 'off', spellcheck: 'false',
      placeholder: conn ? 'Leave empty to keep the stored token' : '123456789:AAE…',
    });
    const parts = [field('token', 'Bot token', token, 'From @BotFather. It is stored encrypted and never shown again.')];
    for (const c of role.channels) {
      const current = conn && conn[c.key] ? String(conn[c.key].id) : '';
      parts.push(field(c.key, c.label, h('input', { class: 'input', type: 'text', name: c.key, autocomplete: 'off', value: current, placeholder: '-1001234567890 or @channel' }), c.hint));
    }
    const general = h('p', { class: 'field-error', role: 'alert' });
    const submit = h('button', { class: 'btn btn-primary', type: 'submit', 'data-action': 'save' }, icon('check', { size: 16 }), conn ? 'Save changes' : 'Connect');
    const form = h('form', { class: 'conn-form', novalidate: true, 'aria-label': (conn ? 'Update the ' : 'Connect the ') + role.label },
      h('h3', { class: 'conn-form-title' }, conn ? 'Change token or channels' : 'Connect a ' + role.label),
      parts, general, h('div', { class: 'conn-form-actions' }, submit));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      general.textContent = '';
      for (const k of Object.keys(errors)) { errors[k].textContent = ''; inputs[k].removeAttribute('aria-invalid'); }
      const body = {};
      if (token.value.trim()) body.token = token.value.trim();
      else if (!conn) { showError('token', 'Paste the bot token from @BotFather.'); return; }
      for (const c of role.channels) {
        const v = inputs[c.key].value.trim();
        if (v) body[c.key] = v;
      }
      submit.disabled = true;
      try {
        await put('/api/connections/' + role.path, body);
        token.value = '';
        ctx.toast(role.label + ' connected', 'success');
        open.add(role.id);
        await load();
      } catch (err) {
        const f = err.body && err.body.field;
        if (f && errors[f]) showError(f, err.message);
        else general.textContent = err.message;
      } finally {
        submit.disabled = false;
      }
    });
    function showError(key, message) {
      errors[key].textContent = message;
      inputs[key].setAttribute('aria-invalid', 'true');
      inputs[key].focus();
    }
    return form;
  }

  // The User Account: phone → code → two-step password, then a test message and sign out.
  // GET /api/connections/user-account and POST …/code, …/sign-in, …/password, …/test; DELETE.
  function userAccountCard(ua) {
    const UA = '/api/connections/user-account';
    const signedIn = !!(ua && ua.signedIn);
    const held = ua && ua.health && ua.health.state !== 'ok';
    const step = ua && ua.login ? ua.login.step : null;
    const s = !ua || !ua.available ? { tone: 'neutral', text: 'Not set up', status: 'unavailable' }
      : signedIn && held ? { tone: 'warning', text: 'Degraded', status: 'degraded' }
        : signedIn ? { tone: 'success', text: 'Connected', status: 'ok' }
          : step ? { tone: 'warning', text: 'Signing in', status: 'signing_in' }
            : { tone: 'neutral', text: 'Not connected', status: 'none' };
    const account = signedIn && ua.account ? ua.account : null;
    const details = h('details', { class: 'card conn-card', id: 'conn-user-account', 'data-role': 'user_account', open: open.has('user_account') || !!step });
    details.addEventListener('toggle', () => { if (details.open) open.add('user_account'); else open.delete('user_account'); });
    const content = h('div', { class: 'card-body conn-body' });
    details.append(h('summary', { class: 'conn-summary' },
      h('span', { class: 'conn-summary-text' },
        h('span', { class: 'conn-title' }, 'User Account'),
        h('span', { class: 'conn-sub' }, account && account.username ? '@' + account.username : 'A Telegram user (not a bot) that sends journey DMs.')),
      h('span', { class: 'badge badge-' + s.tone + ' conn-status', 'data-status': s.status }, h('span', { class: 'dot' }), s.text),
      icon('chevronDown', { size: 18 })), content);

    if (!ua || !ua.available) {
      content.append(h('div', { class: 'callout conn-env' }, icon('info', { size: 18 }),
        h('span', null, 'The server needs a Telegram application to sign in a user account: create one at my.telegram.org, set TELEGRAM_API_ID and TELEGRAM_API_HASH, and restart.')));
      return details;
    }
    if (held) {
      const until = ua.health.until ? ' until ' + formatDate(ua.health.until, { time: true }) : '';
      content.append(h('div', { class: 'callout callout-warning mb-5 conn-reason', role: 'alert' }, icon('alert', { size: 18 }),
        h('span', null, ua.health.state === 'peer_flood'
          ? 'Telegram limited this account for messaging people who have not contacted it (PEER_FLOOD): sending is paused' + until + '. Check @SpamBot in Telegram.'
          : 'Telegram asked the account to slow down (FLOOD_WAIT): sending resumes' + until + '.')));
    }
    if (account) {
      content.append(h('dl', { class: 'kv' },
        h('dt', null, 'Account'), h('dd', { class: 'conn-username' }, account.username ? '@' + account.username : (account.firstName || String(account.userId))),
        h('dt', null, 'Telegram id'), h('dd', null, String(account.userId))));
    }
    if (!editable) {
      if (!account) content.append(h('p', { class: 'hint' }, 'Only owners and admins can connect the user account.'));
      return details;
    }

    // One small form per step; a 422 shows under the field it names.
    const stepForm = ({ name, label, type, hint, placeholder, submitLabel, path, key, autocomplete, extra, done }) => {
      const id = 'conn-ua-' + name;
      const input = h('input', { class: 'input', id, name, type, autocomplete: autocomplete || 'off', spellcheck: 'false', placeholder: placeholder || '', 'aria-describedby': id + '-error' + (hint ? ' ' + id + '-hint' : '') });
      const error = h('p', { class: 'field-error', id: id + '-error', role: 'alert' });
      input.addEventListener('input', () => { error.textContent = ''; input.removeAttribute('aria-invalid'); });
      const submit = h('button', { class: 'btn btn-primary', type: 'submit', 'data-action': name }, icon('check', { size: 16 }), submitLabel);
      const form = h('form', { class: 'conn-form', novalidate: true, 'aria-label': label },
        h('div', { class: 'field' }, h('label', { class: 'label', for: id }, label), input,
          hint ? h('p', { class: 'hint', id: id + '-hint' }, hint) : null, error),
        h('div', { class: 'conn-form-actions' }, submit, extra || null));
      form.addEventListener('submit', async (e) => {
        e.preventDefault();
        error.textContent = '';
        if (!input.value.trim()) { error.textContent = 'Fill in ' + label.toLowerCase() + '.'; input.setAttribute('aria-invalid', 'true'); input.focus(); return; }
        submit.disabled = true;
        try {
          const result = await post(UA + path, { [key]: type === 'password' ? input.value : input.value.trim() });
          input.value = '';
          if (done) { done(result); return; }
          if (result && result.signedIn) ctx.toast('User account connected', 'success');
          open.add('user_account');
          await load();
        } catch (err) {
          error.textContent = err.message;
          input.setAttribute('aria-invalid', 'true');
          input.focus();
        } finally {
          submit.disabled = false;
        }
      });
      return form;
    };
    const cancel = () => {
      const b = h('button', { class: 'btn btn-secondary', type: 'button', 'data-action': 'cancel-login' }, 'Start over');
      b.addEventListener('click', async () => {
        b.disabled = true;
        try { await del(UA); await load(); } catch (err) { ctx.toast(err.message, 'error'); } finally { b.disabled = false; }
      });
      return b;
    };

    if (account) {
      const test = stepForm({ name: 'test-to', label: 'Send a test message to', placeholder: '@username', submitLabel: 'Send test', path: '/test', key: 'to',
        done: () => ctx.toast('Test message sent from the user account', 'success'),
        hint: 'A Telegram @username. The account can message people by id only once they have written to it.' });
      const signOut = h('button', { class: 'btn btn-danger-ghost btn-sm', type: 'button', 'data-action': 'sign-out' }, icon('trash', { size: 16 }), 'Sign out');
      signOut.addEventListener('click', async () => {
        const ok = await confirmDialog({
          title: 'Sign the user account out?',
          text: 'Journeys that send as this account stop sending until it is connected again; its session is deleted from the server.',
          confirmLabel: 'Sign out',
          danger: true,
        });
        if (!ok) return;
        signOut.disabled = true;
        try { await del(UA); ctx.toast('User account signed out', 'success'); await load(); } catch (err) { ctx.toast(err.message, 'error'); } finally { signOut.disabled = false; }
      });
      content.append(test, h('div', { class: 'conn-actions' }, signOut));
    } else if (step === 'code') {
      content.append(h('p', { class: 'conn-login-step' }, 'Telegram sent a login code to ' + ua.login.phone + ' (in the Telegram app, or by SMS).'),
        stepForm({ name: 'code', label: 'Login code', placeholder: '12345', submitLabel: 'Sign in', path: '/sign-in', key: 'code', autocomplete: 'one-time-code', extra: cancel() }));
    } else if (step === 'password') {
      content.append(h('p', { class: 'conn-login-step' }, 'Two-step verification is on for ' + ua.login.phone + '.'),
        stepForm({ name: 'password', label: 'Two-step verification password', type: 'password', submitLabel: 'Sign in', path: '/password', key: 'password', autocomplete: 'current-password',
          hint: ua.login.hint ? 'Hint: ' + ua.login.hint : null, extra: cancel() }));
    } else {
      content.append(h('h3', { class: 'conn-form-title' }, 'Connect a user account'),
        stepForm({ name: 'phone', label: 'Phone number', type: 'tel', placeholder: '+447700900123', submitLabel: 'Send code', path: '/code', key: 'phone', autocomplete: 'tel',
          hint: 'The account\'s number with the country code. Telegram sends a code to the account; its session is stored encrypted on this server.' }));
    }
    return details;
  }

  await load();
}
