// Forex → Strategy & Config. "Live strategy and settings": the workspace's forex settings
// (GET/POST /api/forex-config; a strategy change while a signal is open is queued) and
// "Backtest these settings" on the workspace's stored bars (POST /api/forex-config/backtest).
// "Backtest": replays the bundled EUR/USD hourly bars (GET /api/backtests/strategies,
// POST /api/backtests). Both show the report of `promostack backtest --json`
// (docs/backtests.md): KPI cards, equity and drawdown charts, monthly and per-exit tables.
import { get, post } from '../api.js';
import { h, clear, pageHeader, loadInto, icon, toast } from '../ui.js';
import { lineChart } from '../chart.js';

const day = (t) => new Date(t * 1000).toISOString().slice(0, 10);
const stamp = (t) => new Date(t * 1000).toISOString().slice(0, 16).replace('T', ' ');
const signed = (v, digits = 1) => (v > 0 ? '+' : v < 0 ? '−' : '') + Math.abs(v).toFixed(digits);
const tone = (v) => (v > 0 ? 'bt-pos' : v < 0 ? 'bt-neg' : '');
const pf = (v) => (v === null || v === undefined ? '—' : v.toFixed(2));

function stat(label, value, id, sub, valueClass = '') {
  return h('div', { class: 'stat' },
    h('div', { class: 'stat-label' }, label),
    h('div', { class: 'stat-value ' + valueClass, id }, value),
    sub ? h('div', { class: 'bt-sub', id: id + '-sub' }, sub) : null);
}

function tallyTable(id, caption, first, rows) {
  return h('section', { class: 'card' },
    h('div', { class: 'card-header' }, h('h3', { class: 'card-title' }, caption)),
    h('div', { class: 'table-wrap' }, h('table', { class: 'table bt-table', id },
      h('thead', {}, h('tr', {}, [first, 'Trades', 'W / D / L', 'Win %', 'Net pips', 'PF'].map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, rows.map((r) => h('tr', { dataset: { key: r.key } },
        h('td', {}, r.key),
        h('td', {}, String(r.trades)),
        h('td', { class: 'col-muted' }, `${r.wins} / ${r.draws} / ${r.losses}`),
        h('td', {}, r.win_rate_percent.toFixed(1)),
        h('td', { class: tone(r.net_pips) }, signed(r.net_pips)),
        h('td', {}, pf(r.profit_factor))))))));
}

// Scalar parameters get an input; lists and maps (the TP split, per-indicator switches) keep
// their defaults here.
function paramInput(name, value) {
  const id = 'bt-param-' + name;
  if (typeof value === 'boolean') {
    return h('label', { class: 'check-row bt-check' },
      h('input', { type: 'checkbox', class: 'checkbox', id, dataset: { param: name }, checked: value }),
      h('span', {}, name));
  }
  if (typeof value !== 'number') return null;
  return h('div', { class: 'field' },
    h('label', { class: 'label', for: id }, name),
    h('input', { class: 'input', type: 'number', step: 'any', id, value: String(value), dataset: { param: name, default: String(value) } }));
}

function showReport(r) {
  const s = r.stats;
  const dd = s.drawdown;
  const costs = r.costs.spread_pips + 2 * r.costs.slippage_pips;
  const span = r.first_bar ? `${stamp(r.first_bar)} to ${stamp(r.last_bar)} UTC` : 'no bars';
  const kpis = h('div', { class: 'grid bt-kpis mb-5', id: 'bt-kpis' },
    stat('Net pips', signed(s.net_pips), 'bt-net', `${s.trades} trades · costs ${costs.toFixed(1)} pips each`, tone(s.net_pips)),
    stat('Profit factor', pf(s.profit_factor), 'bt-pf', 'gross profit / gross loss'),
    stat('Expectancy', signed(s.expectancy_pips, 2), 'bt-expectancy', 'pips per trade', tone(s.expectancy_pips)),
    stat('Win rate', s.win_rate_percent.toFixed(1) + ' %', 'bt-winrate', `${s.wins} wins · ${s.draws} draws (left out) · ${s.losses} losses`),
    stat('Max drawdown', dd.max_pips.toFixed(1), 'bt-drawdown', dd.peak_at ? `pips, ${day(dd.peak_at)} to ${day(dd.trough_at)}` : 'pips'));
  const equity = r.equity.map((p) => ({ x: p.time, y: p.pips }));
  const drawdown = r.drawdown.map((p) => ({ x: p.time, y: -p.pips }));
  const charts = h('section', { class: 'card mb-5', id: 'bt-charts' },
    h('div', { class: 'card-header' },
      h('div', {},
        h('h3', { class: 'card-title' }, `Equity and drawdown: ${r.strategy} on ${r.symbol} ${r.timeframe}`),
        h('p', { class: 'card-subtitle', id: 'bt-span' }, `${r.bars.toLocaleString()} bars, ${span}; closed-trade equity in pips after costs`))),
    h('div', { class: 'card-body' },
      equity.length
        ? [
          h('div', { class: 'chart-wrap', id: 'bt-equity', dataset: { points: String(equity.length) } },
            lineChart({ points: [{ x: equity[0].x, y: 0 }, ...equity], ariaLabel: 'Equity in pips after each closed trade', xLabel: day, tone: 'primary' })),
          h('div', { class: 'chart-wrap mt-4', id: 'bt-drawdown-chart', dataset: { points: String(drawdown.length) } },
            lineChart({ points: drawdown, height: 140, area: true, ariaLabel: 'Drawdown in pips below the running peak', xLabel: day, tone: 'danger' })),
        ]
        : h('p', { class: 'col-muted' }, 'No trades in this run.')));
  const tables = h('div', { class: 'grid bt-tables' },
    tallyTable('bt-months', 'By month of entry (UTC)', 'Month', s.by_month),
    tallyTable('bt-exits', 'By exit reason', 'Exit', s.by_exit));
  return [kpis, charts, tables];
}

// ---------- live settings ----------

const TIMING = ['first_revalidation_minutes', 'revalidation_interval_minutes', 'hard_timeout_minutes', 'breakeven_zone_percent', 'guidance_cooldown_minutes'];
const DAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'];

function field(label, input, hint) {
  return h('div', { class: 'field' }, h('label', { class: 'label', for: input.id }, label), input, hint ? h('p', { class: 'hint' }, hint) : null);
}

function liveSection(config, status, ctx) {
  const s = config.settings;
  const input = (id, value, type = 'text') => h('input', { class: 'input', type, step: type === 'number' ? 'any' : null, id, value: String(value), autocomplete: 'off' });
  const select = (id, options, value) => h('select', { class: 'select', id }, options.map((o) => h('option', { value: o, selected: o === value }, o)));
  const enabled = h('input', { type: 'checkbox', class: 'checkbox', id: 'fx-enabled', checked: s.enabled });
  const strategy = select('fx-strategy', config.strategies, s.bot_active_bot_type);
  const fields = {
    symbol: input('fx-symbol', s.symbol),
    timeframe: select('fx-timeframe', ['15m', '1h'], s.timeframe),
    signal_check_minutes: input('fx-check', s.signal_check_minutes, 'number'),
    time_zone: input('fx-zone', s.time_zone),
    morning_briefing_at: input('fx-briefing', s.morning_briefing_at),
    daily_recap_at: input('fx-recap', s.daily_recap_at),
    weekly_recap_day: select('fx-weekly', DAYS, s.weekly_recap_day),
    admin_telegram_ids: input('fx-admins', s.admin_telegram_ids.join(', ')),
  };
  const params = h('div', { class: 'grid grid-auto', id: 'fx-params' });
  for (const [name, value] of Object.entries(s.params)) {
    if (typeof value === 'number' || typeof value === 'boolean') {
      const el = paramInput(name, value);
      for (const i of el.querySelectorAll('input')) { i.id = 'fx-param-' + name; i.dataset.live = name; }
      const label = el.querySelector('label.label');
      if (label) { label.setAttribute('for', 'fx-param-' + name); label.textContent = name.replace(/_/g, ' '); }
      const text = el.querySelector('span');
      if (text) text.textContent = name.replace(/_/g, ' ');
      params.append(el);
    }
  }
  for (const name of TIMING) {
    params.append(field(name.replace(/_/g, ' '), h('input', { class: 'input', type: 'number', step: 'any', id: 'fx-timing-' + name, value: String(s.params.timing[name]), dataset: { timing: name } })));
  }
  const zones = input('fx-timing-progress_zones_percent', s.params.timing.progress_zones_percent.join(', '));
  zones.dataset.timing = 'progress_zones_percent';
  params.append(field('progress zones percent', zones, 'comma-separated, ascending'));
  const split = input('fx-param-tp_split_percent', s.params.tp_split_percent.join(', '));
  params.append(field('tp split percent', split, 'TP1, TP2, TP3: sums to 100'));
  const formError = h('p', { class: 'field-error', id: 'fx-error', role: 'alert', hidden: true });
  const save = h('button', { class: 'btn btn-primary', type: 'submit', id: 'fx-save' }, 'Save settings');
  const test = h('button', { class: 'btn btn-secondary', type: 'button', id: 'fx-backtest' }, 'Backtest these settings');
  const result = h('div', { id: 'fx-backtest-result', class: 'mt-4' });
  const queued = h('p', { class: 'hint', id: 'fx-queued' }, config.queued_strategy
    ? `Switching to ${config.queued_strategy} when the open signal closes.`
    : status.openSignal ? 'A signal is open: a new strategy waits for it to close.' : '');
  const list = (text) => text.split(',').map((x) => x.trim()).filter(Boolean).map(Number);

  function patch() {
    const out = {
      enabled: enabled.checked,
      bot_active_bot_type: strategy.value,
      symbol: fields.symbol.value.trim(),
      timeframe: fields.timeframe.value,
      signal_check_minutes: Number(fields.signal_check_minutes.value),
      time_zone: fields.time_zone.value.trim(),
      morning_briefing_at: fields.morning_briefing_at.value.trim(),
      daily_recap_at: fields.daily_recap_at.value.trim(),
      weekly_recap_day: fields.weekly_recap_day.value,
      admin_telegram_ids: list(fields.admin_telegram_ids.value),
      params: { timing: {} },
    };
    for (const i of params.querySelectorAll('[data-live]')) {
      out.params[i.dataset.live] = i.type === 'checkbox' ? i.checked : Number(i.value);
    }
    for (const i of params.querySelectorAll('[data-timing]')) {
      out.params.timing[i.dataset.timing] = i.dataset.timing === 'progress_zones_percent' ? list(i.value) : Number(i.value);
    }
    out.params.tp_split_percent = list(split.value);
    return out;
  }
  function showError(err) {
    for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
    const name = err.body && err.body.field;
    const target = name && (fields[name] || (name === 'bot_active_bot_type' ? strategy : null)
      || form.querySelector(`#fx-param-${name}, #fx-timing-${name}`));
    if (target) target.setAttribute('aria-invalid', 'true');
    formError.textContent = err.message;
    formError.hidden = false;
  }
  async function submit(event) {
    event.preventDefault();
    formError.hidden = true;
    save.disabled = true;
    try {
      const body = patch();
      if (body.bot_active_bot_type !== s.bot_active_bot_type) {
        // The new strategy starts from its own defaults.
        delete body.params;
      }
      const saved = await post('/api/forex-config', body, { signal: ctx.signal });
      toast(saved.queued_strategy ? `Saved. ${saved.queued_strategy} takes over when the open signal closes.` : 'Settings saved', 'success');
      ctx.reload();
    } catch (err) {
      if (err.status === 422) showError(err); else toast(err.message, 'error');
    } finally {
      save.disabled = false;
    }
  }
  test.addEventListener('click', async () => {
    formError.hidden = true;
    for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
    test.disabled = true;
    test.textContent = 'Running…';
    try {
      await loadInto(result, () => post('/api/forex-config/backtest', patch(), { signal: ctx.signal }), showReport, {
        lines: 6, frame: 'card', signal: ctx.signal,
        error: (err) => {
          if (err.status === 422 || err.status === 409 || err.status === 503) { showError(err); return h('div'); }
          return null;
        },
      });
    } finally {
      test.disabled = false;
      test.textContent = 'Backtest these settings';
    }
  });
  const form = h('form', { class: 'bt-form', id: 'fx-form', novalidate: true, onsubmit: submit },
    h('label', { class: 'check-row mb-4' }, enabled, h('span', {}, 'Run the signals service for this workspace')),
    h('div', { class: 'grid grid-auto' },
      field('Strategy', strategy),
      field('Symbol (Twelve Data)', fields.symbol),
      field('Timeframe', fields.timeframe),
      field('Signal check (minutes)', fields.signal_check_minutes),
      field('Time zone', fields.time_zone, 'IANA name, e.g. Europe/London'),
      field('Morning briefing (HH:MM)', fields.morning_briefing_at),
      field('Daily recap (HH:MM)', fields.daily_recap_at),
      field('Weekly recap day', fields.weekly_recap_day),
      field('Admin Telegram ids', fields.admin_telegram_ids, 'may send /status, /pause… to the Signal Bot')),
    queued,
    h('fieldset', { class: 'bt-params' }, h('legend', {}, 'Strategy parameters and signal timing'), params),
    h('div', { class: 'bt-actions' }, save, test, formError));
  return [
    h('section', { class: 'card', id: 'fx-settings-card' },
      h('div', { class: 'card-header' },
        h('div', {},
          h('h2', { class: 'card-title' }, 'Live strategy and settings'),
          h('p', { class: 'card-subtitle', id: 'fx-active' }, `Active: ${status.activeStrategy} on ${status.symbol} ${status.timeframe}${status.paused ? ' · paused' : ''}. Changes apply at the next check, without a restart.`))),
      h('div', { class: 'card-body' }, form)),
    result,
  ];
}

export default async function render(root, ctx) {
  root.append(pageHeader({
    title: 'Strategy & Config',
    description: 'The live strategy and its settings, and backtests of them on stored or bundled bars.',
  }));
  const live = h('div', { id: 'fx-live' });
  const body = h('div', { class: 'mt-5' });
  root.append(live, body);
  await loadInto(live, () => Promise.all([
    get('/api/forex-config', { signal: ctx.signal }),
    get('/api/signal-bot/status', { signal: ctx.signal }),
  ]), ([config, status]) => liveSection(config, status, ctx), { lines: 6, frame: 'card', signal: ctx.signal });
  const list = await loadInto(body, () => get('/api/backtests/strategies', { signal: ctx.signal }), null,
    { lines: 4, frame: 'card', retry: ctx.reload });
  if (!list) return undefined;
  const data = list.data;

  const strategy = h('select', { class: 'select', id: 'bt-strategy' },
    list.strategies.map((s) => h('option', { value: s.name }, s.name)));
  const description = h('p', { class: 'hint', id: 'bt-description' });
  const params = h('div', { class: 'grid grid-auto', id: 'bt-params' });
  const spread = h('input', { class: 'input', type: 'number', step: 'any', min: '0', id: 'bt-spread', value: '0' });
  const slippage = h('input', { class: 'input', type: 'number', step: 'any', min: '0', id: 'bt-slippage', value: '0' });
  const timerange = h('input', { class: 'input', type: 'text', id: 'bt-timerange', placeholder: 'FROM..TO', autocomplete: 'off' });
  const formError = h('p', { class: 'field-error', id: 'bt-error', role: 'alert', hidden: true });
  const run = h('button', { class: 'btn btn-primary', type: 'submit', id: 'bt-run' }, 'Run backtest');
  const result = h('div', { id: 'bt-result', class: 'mt-4' });

  function fieldFor(name) {
    return { strategy, spread, slippage, timerange, params }[name] || null;
  }
  function showStrategy() {
    const s = list.strategies.find((x) => x.name === strategy.value) || list.strategies[0];
    description.textContent = s.description;
    clear(params).append(...Object.entries(s.params).map(([k, v]) => paramInput(k, v)).filter(Boolean));
  }
  strategy.addEventListener('change', showStrategy);
  showStrategy();

  function request() {
    const overrides = {};
    const s = list.strategies.find((x) => x.name === strategy.value);
    for (const input of params.querySelectorAll('[data-param]')) {
      const name = input.dataset.param;
      const value = input.type === 'checkbox' ? input.checked : Number(input.value);
      if (input.type !== 'checkbox' && input.value.trim() === '') continue;
      if (value !== s.params[name]) overrides[name] = value;
    }
    const num = (input) => (input.value.trim() === '' ? 0 : Number(input.value));
    const req = { strategy: strategy.value, spread: num(spread), slippage: num(slippage) };
    if (Object.keys(overrides).length) req.params = overrides;
    if (timerange.value.trim()) req.timerange = timerange.value.trim();
    return req;
  }

  function clearErrors() {
    formError.hidden = true;
    formError.textContent = '';
    for (const el of [strategy, spread, slippage, timerange, params]) el.removeAttribute('aria-invalid');
  }

  async function submit(event) {
    event.preventDefault();
    clearErrors();
    run.disabled = true;
    run.textContent = 'Running…';
    try {
      await loadInto(result, () => post('/api/backtests', request(), { signal: ctx.signal }), showReport, {
        lines: 6, frame: 'card', signal: ctx.signal,
        error: (err) => {
          if (err.status === 422 || err.status === 503) {
            const field = err.body && fieldFor(err.body.field);
            if (field) field.setAttribute('aria-invalid', 'true');
            formError.textContent = err.message;
            formError.hidden = false;
            return h('div');
          }
          return null;
        },
      });
    } finally {
      run.disabled = false;
      run.textContent = 'Run backtest';
    }
  }

  const form = h('form', { class: 'bt-form', id: 'bt-form', novalidate: true, onsubmit: submit },
    h('div', { class: 'grid grid-auto' },
      h('div', { class: 'field' }, h('label', { class: 'label', for: 'bt-strategy' }, 'Strategy'), strategy),
      h('div', { class: 'field' }, h('label', { class: 'label', for: 'bt-spread' }, 'Spread (pips per trade)'), spread),
      h('div', { class: 'field' }, h('label', { class: 'label', for: 'bt-slippage' }, 'Slippage (pips per fill)'), slippage),
      h('div', { class: 'field' }, h('label', { class: 'label', for: 'bt-timerange' }, 'Time range (UTC, optional)'), timerange,
        h('p', { class: 'hint' }, 'e.g. 2017-06-01..2017-12-01'))),
    description,
    h('fieldset', { class: 'bt-params' }, h('legend', {}, 'Parameters (defaults shown)'), params),
    h('div', { class: 'bt-actions' }, run, formError));

  clear(body).append(
    h('section', { class: 'card', id: 'bt-card' },
      h('div', { class: 'card-header' },
        h('div', {},
          h('h2', { class: 'card-title' }, 'Backtest'),
          h('p', { class: 'card-subtitle' }, 'Replay a strategy through the full signal lifecycle: targets, breakeven, re-validation and timeout.'))),
      h('div', { class: 'card-body' },
        h('div', { class: 'callout mb-5', id: 'bt-data-note', role: 'note' }, icon('info', { size: 18 }),
          h('span', null, `These are replays of bundled ${data.symbol} hourly data (real bars, ${data.bars.toLocaleString()} hours from ${day(data.first_bar)} to ${day(data.last_bar)}, ${data.gaps} gaps), not XAU/USD live data. Past results on one instrument say nothing certain about future signals.`)),
        form)),
    result);
  return undefined;
}
