// Forex → Strategy & Config: the "Backtest" section. Replays the bundled EUR/USD hourly bars
// (GET /api/backtests/strategies, POST /api/backtests) with the same engine and report as
// `promostack backtest --json` (docs/backtests.md): KPI cards, equity and drawdown charts, the
// monthly and per-exit-reason tables. Choosing the live strategy and its config comes with the
// signals service (issue 17); this page does not pretend to do it.
import { get, post } from '../api.js';
import { h, clear, pageHeader, loadInto, icon } from '../ui.js';
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

export default async function render(root, ctx) {
  root.append(pageHeader({
    title: 'Strategy & Config',
    description: 'Backtest the signal strategies on bundled historical data. Choosing the live strategy and its settings is coming with the signals service.',
  }));
  const body = h('div');
  root.append(body);
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
