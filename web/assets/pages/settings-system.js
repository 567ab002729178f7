// Settings → System: GET /api/system/status — version, backends, leader, feature switches.
import { get, post } from '../api.js';
import { h, icon, pageHeader, loadInto, emptyState, badge, confirmDialog } from '../ui.js';

const FEATURE_NAMES = {
  telegram: 'Telegram bots',
  stripe: 'Stripe billing',
  openai: 'OpenAI text',
  marketData: 'Market data',
  couponCrm: 'Coupon CRM',
  clerk: 'Clerk sign-in',
  forexBot: 'Forex signals bot',
};

// The server's detail may start with "on:"/"off:"; the badge already says that.
function detailText(detail, enabled) {
  const text = String(detail || '').replace(/^\s*(on|off|enabled|disabled)\s*[:\-–—]\s*/i, '').trim();
  if (!text) return enabled ? 'Configured.' : 'Not configured.';
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function featureName(key) {
  if (FEATURE_NAMES[key]) return FEATURE_NAMES[key];
  const words = String(key).replace(/([a-z])([A-Z])/g, '$1 $2').replace(/[_-]+/g, ' ').trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

const DB_LABEL = { sqlite: 'SQLite', postgres: 'PostgreSQL' };
const STORAGE_LABEL = { local: 'Local disk', s3: 'S3-compatible' };

export default async function render(root, ctx) {
  const refresh = h('button', { class: 'btn btn-secondary', type: 'button', id: 'system-refresh' }, icon('refresh', { size: 16 }), 'Refresh');
  root.append(pageHeader({
    title: 'System',
    description: 'What this PromoStack server runs on and which integrations are switched on.',
    actions: [refresh],
  }));
  const body = h('div');
  root.append(body);

  // Refresh keeps the current figures on screen while the new ones load.
  async function load() {
    refresh.disabled = true;
    try {
      await loadInto(body, () => Promise.all([
        get('/api/system/status', { signal: ctx.signal }),
        // Older servers have no bot status; the card is then left out.
        get('/api/bot/status', { signal: ctx.signal }).catch((err) => {
          if (err.name === 'AbortError') throw err;
          return null;
        }),
      ]), ([status, bot]) => {
        // The bot card goes before the closing hint about integrations, which is the page's footer.
        const parts = view(status);
        const hint = parts.pop();
        return [...parts, ...(bot ? botCard(bot) : []), ...sessionsCard(ctx), hint];
      }, { lines: 4, frame: 'card', keep: true, retry: load });
    } finally {
      refresh.disabled = false;
    }
  }
  refresh.addEventListener('click', load);

  function view(s) {
    const tiles = h('div', { class: 'grid grid-auto', id: 'system-overview' },
      tile('Version', 'info', s.version ? 'v' + String(s.version).replace(/^v/, '') : '—'),
      tile('Database', 'server', DB_LABEL[s.database] || s.database || '—'),
      tile('Object storage', 'templates', STORAGE_LABEL[s.storage] || s.storage || '—'),
      tile('Background workers', 'clock', s.leader
        ? badge('Leader — running', 'success')
        : badge('Standby', 'neutral')));

    const entries = Object.entries(s.features || {});
    entries.sort((a, b) => (Number(b[1] && b[1].enabled) - Number(a[1] && a[1].enabled)) || featureName(a[0]).localeCompare(featureName(b[0])));
    const on = entries.filter(([, f]) => f && f.enabled).length;

    const features = entries.length
      ? h('div', { class: 'grid grid-auto', id: 'system-features' }, entries.map(([key, f]) => {
        const enabled = Boolean(f && f.enabled);
        return h('article', { class: 'feature' + (enabled ? '' : ' feature-off'), 'data-feature': key },
          h('div', { class: 'feature-head' },
            h('h3', { class: 'feature-name' }, featureName(key)),
            enabled
              ? h('span', { class: 'badge badge-success' }, h('span', { class: 'dot' }), 'On')
              : h('span', { class: 'badge badge-neutral' }, h('span', { class: 'dot' }), 'Off')),
          h('p', { class: 'feature-detail' }, detailText(f && f.detail, enabled)));
      }))
      : h('section', { class: 'card' }, emptyState({ iconName: 'info', title: 'No integrations reported', text: 'This server did not report any optional integrations.' }));

    // Optional details (instanceId, leaderEpoch, workers) when the server reports them.
    const instance = (s.instanceId || s.leaderEpoch !== undefined || Array.isArray(s.workers))
      ? h('section', { class: 'card', id: 'system-instance' },
        h('div', { class: 'card-header' },
          h('div', null,
            h('h2', { class: 'card-title' }, 'This instance'),
            h('p', { class: 'card-subtitle' }, 'With several instances, one holds the leader lease and runs the background workers.'))),
        h('div', { class: 'card-body' },
          h('dl', { class: 'kv' },
            s.instanceId ? [h('dt', null, 'Instance ID'), h('dd', null, h('code', null, s.instanceId))] : null,
            h('dt', null, 'Role'), h('dd', null, s.leader ? 'Leader' : 'Standby — takes over when the leader\'s lease expires'),
            s.leaderEpoch !== undefined && s.leaderEpoch !== null ? [h('dt', null, 'Lease epoch'), h('dd', null, String(s.leaderEpoch))] : null,
            Array.isArray(s.workers) ? [h('dt', null, 'Running workers'), h('dd', null,
              s.workers.length
                ? h('span', { class: 'badge-list' }, s.workers.map((w) => badge(String(w), 'info')))
                : h('span', { class: 'col-muted' }, s.leader ? 'None registered' : 'None (standby)'))] : null)))
      : null;

    return [
      tiles,
      ...(Array.isArray(s.connections) ? connectionsCard(s.connections, s.userAccount) : []),
      h('h2', { class: 'section-title' }, 'Integrations · ' + on + ' of ' + entries.length + ' on'),
      features,
      ...(instance ? [h('h2', { class: 'section-title' }, 'Workers'), instance] : []),
      h('p', { class: 'hint mt-4' },
        'Integrations switch on when their credentials are set in the server environment; see docs/operations.md.'),
    ];
  }

  await load();
}

// The admin password's sessions (Clerk users manage theirs in Clerk): end every one of them.
function sessionsCard(ctx) {
  if (!ctx.me || ctx.me.email || !ctx.me.platformAdmin) return [];
  const button = h('button', { class: 'btn btn-danger-ghost btn-sm', type: 'button', id: 'logout-everywhere' }, icon('logout', { size: 16 }), 'Log out everywhere');
  button.addEventListener('click', async () => {
    const ok = await confirmDialog({
      title: 'Log out everywhere?',
      text: 'Every browser signed in with the admin password is signed out at once, this one included.',
      confirmLabel: 'Log out everywhere',
      danger: true,
    });
    if (!ok) return;
    button.disabled = true;
    try {
      await post('/api/logout/everywhere', {}, { redirectOn401: false });
    } catch (err) {
      if (err.status !== 401) { button.disabled = false; ctx.toast(err.message, 'error'); return; }
    }
    location.assign('/login');
  });
  return [
    h('h2', { class: 'section-title' }, 'Sessions'),
    h('section', { class: 'card', id: 'system-sessions' },
      h('div', { class: 'card-body' },
        h('p', null, 'Signed in with the admin password. Log out ends this browser\'s session on the server; a lost or shared device can be signed out from here.'),
        h('div', { class: 'mt-4' }, button))),
  ];
}

// The workspace's connections from the same rows Settings → Connections shows.
const CONNECTION_ROLES = [['coupon_bot', 'Coupon Bot'], ['signal_bot', 'Signal Bot']];
function connectionsCard(conns, ua) {
  const light = (c) => !c ? badge('Not connected', 'neutral')
    : c.status === 'ok' ? h('span', { class: 'badge badge-success' }, h('span', { class: 'dot' }), 'Connected')
      : h('span', { class: 'badge badge-' + (c.status === 'token_rejected' ? 'danger' : 'warning') }, h('span', { class: 'dot' }), c.status === 'token_rejected' ? 'Token rejected' : 'Degraded');
  return [
    h('h2', { class: 'section-title' }, 'Connections'),
    h('section', { class: 'card', id: 'system-connections' },
      h('div', { class: 'card-body' },
        h('dl', { class: 'kv' }, CONNECTION_ROLES.map(([role, label]) => {
          const c = conns.find((x) => x.role === role);
          return [h('dt', null, label), h('dd', { 'data-role': role },
            h('span', { class: 'badge-list' }, light(c), c && c.botUsername ? h('span', null, '@' + c.botUsername) : null,
              c && c.statusReason && c.status !== 'ok' ? h('span', { class: 'col-muted' }, c.statusReason) : null))];
        }), ua ? [h('dt', null, 'User Account'), h('dd', { 'data-role': 'user_account' }, userAccountLine(ua))] : null),
        h('p', { class: 'hint mt-4' }, h('a', { href: '#settings/connections' }, 'Manage in Settings → Connections')))),
  ];
}

function userAccountLine(ua) {
  if (!ua.available) return h('span', { class: 'badge-list' }, badge('Not set up', 'neutral'), h('span', { class: 'col-muted' }, 'needs TELEGRAM_API_ID and TELEGRAM_API_HASH'));
  if (!ua.signedIn) return badge('Not connected', 'neutral');
  const held = ua.health && ua.health.state !== 'ok';
  return h('span', { class: 'badge-list' },
    h('span', { class: 'badge badge-' + (held ? 'warning' : 'success') }, h('span', { class: 'dot' }), held ? 'Degraded' : 'Connected'),
    ua.account && ua.account.username ? h('span', null, '@' + ua.account.username) : null,
    held ? h('span', { class: 'col-muted' }, ua.health.state === 'peer_flood' ? 'sending paused (PEER_FLOOD)' : 'sending held (FLOOD_WAIT)') : null);
}

function tile(label, iconName, value) {
  return h('div', { class: 'stat' },
    h('div', { class: 'stat-label' }, icon(iconName, { size: 16 }), label),
    h('div', { class: 'stat-value' }, value));
}

function when(ms) {
  if (!ms) return 'Never';
  const d = new Date(ms);
  return d.toLocaleString();
}

// The workspace's Telegram bot: configured or not, how updates arrive, @username, last update.
// No token or secret is ever sent by the server.
function botCard(b) {
  const mode = b.mode || b.configuredMode;
  const modeText = mode === 'polling' ? 'Long polling (TELEGRAM_MODE=polling)' : 'Webhook';
  const state = !b.configured
    ? badge('Not configured', 'neutral')
    : b.setupError ? badge('Needs attention', 'warning') : badge('Connected', 'success');
  return [
    h('h2', { class: 'section-title' }, 'Telegram bot'),
    h('section', { class: 'card', id: 'system-bot' },
      h('div', { class: 'card-header' },
        h('div', null,
          h('h2', { class: 'card-title' }, b.username ? '@' + b.username : 'Coupon bot'),
          h('p', { class: 'card-subtitle' }, b.configured
            ? 'Marketers generate coupon images by talking to this bot.'
            : 'Set TELEGRAM_BOT_TOKEN in the server environment to switch the coupon bot on.')),
        state),
      b.configured ? h('div', { class: 'card-body' },
        h('dl', { class: 'kv' },
          h('dt', null, 'Receives updates by'), h('dd', null, modeText),
          b.webhookUrl ? [h('dt', null, 'Webhook URL'), h('dd', null, h('code', null, b.webhookUrl))] : null,
          b.setupError ? [h('dt', null, 'Setup'), h('dd', { class: 'col-muted' }, b.setupError)] : null,
          h('dt', null, 'Last update'), h('dd', null, when(b.lastUpdateAt)),
          h('dt', null, 'Updates'), h('dd', null,
            h('span', { class: 'badge-list' },
              badge(String(b.processedUpdates) + ' processed', 'info'),
              badge(String(b.pendingUpdates) + ' pending', b.pendingUpdates ? 'warning' : 'neutral'),
              badge(String(b.failedUpdates) + ' failed', b.failedUpdates ? 'danger' : 'neutral'))))) : null),
  ];
}
