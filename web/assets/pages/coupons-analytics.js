// Coupon Bot → Analytics: GET /api/bot-stats?days=… (KPI cards, usage chart — hourly for
// today/yesterday, daily otherwise — top templates) and the popular-codes table
// (GET /api/bot-stats/codes, 50 a page, searchable; CSV export of the full list).
import { get, api, couponCodeRules } from '../api.js';
import { h, clear, pageHeader, loadInto, emptyState, debounce, downloadBlob, toast, formatDate } from '../ui.js';
import { barChart } from '../chart.js';

const RANGES = [
  { id: 'today', label: 'Today' },
  { id: 'yesterday', label: 'Yesterday' },
  { id: '7', label: '7 days' },
  { id: '30', label: '30 days' },
  { id: '90', label: '90 days' },
];

function stat(label, value, id) {
  return h('div', { class: 'stat' },
    h('div', { class: 'stat-label' }, label),
    h('div', { class: 'stat-value', id }, value));
}

export default async function render(root, ctx) {
  let range = '7';
  let query = '';
  let page = 1;
  const rangeButtons = RANGES.map((r) => h('button', {
    class: 'seg-btn', type: 'button', role: 'radio', 'aria-checked': String(r.id === range), dataset: { range: r.id },
    onclick: () => { range = r.id; page = 1; syncRange(); loadStats(); loadCodes(); },
  }, r.label));
  function syncRange() {
    for (const b of rangeButtons) b.setAttribute('aria-checked', String(b.dataset.range === range));
  }
  root.append(pageHeader({
    title: 'Analytics',
    description: 'How your coupon bot is used: generations, people, templates and codes, in your workspace time zone.',
    actions: [h('div', { class: 'seg', role: 'radiogroup', 'aria-label': 'Date range', id: 'an-range' }, rangeButtons)],
  }));
  const statsBox = h('div', { id: 'an-stats' });
  const codesBody = h('div', { id: 'an-codes' });
  const search = h('input', { class: 'input', type: 'search', id: 'an-search', placeholder: 'Search codes', 'aria-label': 'Search codes' });
  const exportBtn = h('button', { class: 'btn btn-secondary', type: 'button', id: 'an-export', onclick: exportCsv }, 'Export CSV');
  const codesCard = h('section', { class: 'card mt-4' },
    h('div', { class: 'card-header card-header-tools' },
      h('div', {}, h('h2', { class: 'card-title' }, 'Popular coupon codes'), h('p', { class: 'card-subtitle' }, 'Most generated first, 50 per page.')),
      h('div', { class: 'card-tools' }, search, exportBtn)),
    codesBody);
  root.append(statsBox, codesCard);
  search.addEventListener('input', debounce(() => { query = search.value.trim(); page = 1; loadCodes(); }, 250));

  function loadStats() {
    return loadInto(statsBox, () => get('/api/bot-stats?days=' + encodeURIComponent(range), { signal: ctx.signal }), showStats, { lines: 5, frame: 'card' });
  }

  function showStats(stats) {
    const hourly = stats.granularity === 'hourly';
    const points = stats.daily_usage.map((p) => ({ label: p.label, value: p.count, title: `${hourly ? p.label : p.date}: ${p.count} generations, ${p.successes} successful` }));
    const chartCard = h('section', { class: 'card' },
      h('div', { class: 'card-header' },
        h('div', {},
          h('h2', { class: 'card-title' }, 'Generations'),
          h('p', { class: 'card-subtitle', id: 'an-granularity' }, hourly ? `By hour (${stats.timezone})` : `By day (${stats.timezone})`))),
      h('div', { class: 'card-body chart-wrap', id: 'an-chart', dataset: { granularity: stats.granularity, points: String(points.length) } },
        stats.total_generations
          ? barChart({ points, ariaLabel: `Generations ${hourly ? 'per hour' : 'per day'}` })
          : emptyState({ iconName: 'analytics', title: 'No generations in this range', text: 'When people use the bot, their generations show up here.', level: 3 })));
    const top = stats.top_templates;
    const maxTop = Math.max(1, ...top.map((t) => t.count));
    const topCard = h('section', { class: 'card' },
      h('div', { class: 'card-header' }, h('h2', { class: 'card-title' }, 'Top templates')),
      h('div', { class: 'card-body' }, top.length
        ? h('ol', { class: 'bars-list', id: 'an-top' }, top.map((t) => h('li', {},
          h('div', { class: 'bars-row' }, h('span', { class: 'bars-name' }, t.template), h('span', { class: 'bars-value' }, t.count.toLocaleString())),
          h('div', { class: 'bars-track' }, h('div', { class: 'bars-fill', style: `width: ${(100 * t.count / maxTop).toFixed(1)}%` })))))
        : h('p', { class: 'col-muted' }, 'No templates used yet.')));
    clear(statsBox).append(
      h('div', { class: 'grid grid-3 mb-5', id: 'an-kpis' },
        stat('Generations', stats.total_generations.toLocaleString(), 'an-generations'),
        stat('Unique users', stats.unique_users.toLocaleString(), 'an-users'),
        stat('Success rate', stats.total_generations ? stats.success_rate.toFixed(1) + ' %' : '—', 'an-success')),
      h('div', { class: 'an-layout' }, chartCard, topCard));
  }

  function loadCodes() {
    return loadInto(codesBody, () => Promise.all([
      couponCodeRules(),
      get(`/api/bot-stats/codes?days=${encodeURIComponent(range)}&page=${page}&q=${encodeURIComponent(query)}`, { signal: ctx.signal }),
    ]), showCodes, { lines: 4, frame: 'card-body' });
  }

  function showCodes([rules, data]) {
    search.maxLength = rules.maxChars;
    if (!data.codes.length) {
      clear(codesBody).append(h('div', { class: 'card-body' }, emptyState({
        iconName: 'tag', level: 3,
        title: query ? 'No code matches' : 'No codes yet',
        text: query ? `Nothing in this range contains “${query}”.` : 'Codes people generate images for appear here.',
      })));
      return;
    }
    const rows = data.codes.map((c, i) => h('tr', {},
      h('td', { class: 'col-muted' }, String((data.page - 1) * data.per_page + i + 1)),
      h('td', {}, h('code', { class: 'cp-code' }, c.code)),
      h('td', {}, c.count.toLocaleString()),
      h('td', {}, c.count ? Math.round((100 * c.successes) / c.count) + ' %' : '—'),
      h('td', {}, c.users.toLocaleString()),
      h('td', { class: 'col-muted' }, formatDate(c.last_used, { time: true }))));
    const prev = h('button', { class: 'btn btn-secondary btn-sm', type: 'button', id: 'an-prev', disabled: data.page <= 1, onclick: () => { page -= 1; loadCodes(); } }, 'Previous');
    const next = h('button', { class: 'btn btn-secondary btn-sm', type: 'button', id: 'an-next', disabled: data.page >= data.pages, onclick: () => { page += 1; loadCodes(); } }, 'Next');
    clear(codesBody).append(
      h('div', { class: 'table-wrap' }, h('table', { class: 'table', id: 'an-code-table' },
        h('thead', {}, h('tr', {}, h('th', {}, '#'), h('th', {}, 'Code'), h('th', {}, 'Generations'), h('th', {}, 'Success'), h('th', {}, 'Users'), h('th', {}, 'Last used'))),
        h('tbody', {}, rows))),
      h('div', { class: 'card-footer' },
        h('span', { class: 'card-footer-note', id: 'an-page' }, `Page ${data.page} of ${data.pages} · ${data.total.toLocaleString()} codes`),
        h('div', { class: 'card-tools' }, prev, next)));
  }

  async function exportCsv() {
    exportBtn.disabled = true;
    try {
      const blob = await api(`/api/bot-stats/codes.csv?days=${encodeURIComponent(range)}&q=${encodeURIComponent(query)}`, { responseType: 'blob' });
      downloadBlob(blob, `coupon-codes-${range}.csv`);
    } catch (err) {
      toast(err.message, 'error');
    } finally {
      exportBtn.disabled = false;
    }
  }

  await Promise.all([loadStats(), loadCodes()]);
}
