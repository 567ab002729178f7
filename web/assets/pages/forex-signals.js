// Forex → Signals: the open signal with its progress toward each target and live pips
// (GET /api/signal-bot/status), 30-day performance with daily and weekly pips
// (GET /api/forex-signals/performance), the price sparkline (GET /api/xauusd-sparkline) and
// the history with outcomes (GET /api/forex-signals, 25 a page). Refreshes every 10 s.
import { get } from '../api.js';
import { h, clear, pageHeader, loadInto, emptyState, badge, icon } from '../ui.js';
import { lineChart, signedBarChart } from '../chart.js';

const PAGE = 25;
const OUTCOMES = {
  open: ['Open', 'info'],
  tp1: ['TP1', 'success'],
  tp2: ['TP2', 'success'],
  tp3: ['TP3', 'success'],
  sl: ['Stop loss', 'danger'],
  timeout: ['Time limit', 'warning'],
  thesis_broken: ['Thesis broken', 'warning'],
  end_of_data: ['Closed', 'neutral'],
};
const signed = (v, digits = 1) => (v > 0 ? '+' : v < 0 ? '−' : '') + Math.abs(v).toFixed(digits);
const tone = (v) => (v > 0 ? 'bt-pos' : v < 0 ? 'bt-neg' : '');
const when = (ms) => new Date(ms).toISOString().slice(0, 16).replace('T', ' ');
const decimals = (pip) => (pip >= 0.01 ? 2 : pip >= 0.001 ? 3 : 5);

function stat(label, value, id, valueClass = '') {
  return h('div', { class: 'stat' },
    h('div', { class: 'stat-label' }, label),
    h('div', { class: 'stat-value ' + valueClass, id }, value));
}

function outcome(status) {
  const [label, t] = OUTCOMES[status] || [status, 'neutral'];
  return badge(label, t);
}

/** Percent of the way from entry to `target` at `price` (0..100). */
function progressTo(signal, price, target) {
  const span = target - signal.entry;
  if (!price || !span) return 0;
  return Math.max(0, Math.min(100, ((price - signal.entry) / span) * 100));
}

function openCard(status) {
  const open = status.openSignal;
  if (!open) {
    return h('section', { class: 'card', id: 'fx-open' }, h('div', { class: 'card-body' },
      emptyState({
        iconName: 'pulse',
        title: 'No open signal',
        text: status.paused
          ? 'New signals are paused (/pause). /resume or the Strategy & Config page turns them back on.'
          : `The ${status.activeStrategy} strategy is watching ${status.symbol} ${status.timeframe}; the next signal shows here.`,
        level: 3,
      })));
  }
  const s = open.signal;
  const d = decimals(s.pipSize);
  const px = (v) => v.toFixed(d);
  const level = (label, value, pct, id, danger = false) => h('div', { class: 'fx-level', id },
    h('div', { class: 'fx-level-label' }, label),
    h('div', { class: 'fx-level-value' }, px(value)),
    pct === null ? null : h('div', { class: 'progress', role: 'progressbar', 'aria-label': `${label} progress`, 'aria-valuenow': pct.toFixed(0), 'aria-valuemin': '0', 'aria-valuemax': '100' },
      h('div', { class: 'progress-fill', style: `width: ${pct.toFixed(1)}%;${danger ? ' background: var(--danger);' : ''}` })));
  const price = open.price;
  return h('section', { class: 'card', id: 'fx-open', dataset: { signal: s.id } },
    h('div', { class: 'card-header' },
      h('div', { class: 'fx-open-head' },
        h('h2', { class: 'card-title' }, `#${s.number} ${s.symbol} ${s.direction}`),
        badge(s.direction, s.direction === 'BUY' ? 'success' : 'danger'),
        h('span', { class: 'col-muted' }, `${s.strategy} · opened ${when(s.openedAt)} UTC`))),
    h('div', { class: 'card-body' },
      h('div', { class: 'fx-live ' + tone(open.livePips || 0), id: 'fx-live-pips' }, open.livePips === null ? '—' : `${signed(open.livePips)} pips`),
      h('p', { class: 'col-muted' }, price === null ? 'No price yet.' : `at ${px(price)} · ${open.remainingPercent.toFixed(0)} % of the position open · banked ${signed(open.realizedPips)} pips`),
      h('div', { class: 'fx-levels' },
        level('Entry', s.entry, null, 'fx-entry'),
        level('TP1', s.takeProfits[0], s.targetsHit >= 1 ? 100 : progressTo(s, price, s.takeProfits[0]), 'fx-tp1'),
        level('TP2', s.takeProfits[1], s.targetsHit >= 2 ? 100 : progressTo(s, price, s.takeProfits[1]), 'fx-tp2'),
        level('TP3', s.takeProfits[2], progressTo(s, price, s.takeProfits[2]), 'fx-tp3'),
        level('Stop loss', open.currentStop, progressTo(s, price, open.currentStop), 'fx-sl', true))));
}

function historyTable(page) {
  if (!page.signals.length) {
    return emptyState({ iconName: 'pulse', title: 'No signals yet', text: 'Signals appear here as the strategy finds them.', level: 3 });
  }
  const rows = page.signals.map((s) => {
    const d = decimals(s.pipSize);
    return h('tr', { dataset: { id: s.id, status: s.status } },
      h('td', {}, `#${s.number}`),
      h('td', { class: 'col-muted' }, when(s.openedAt)),
      h('td', {}, badge(s.direction, s.direction === 'BUY' ? 'success' : 'danger')),
      h('td', {}, s.entry.toFixed(d)),
      h('td', { class: 'col-muted' }, s.stopLoss.toFixed(d)),
      h('td', { class: 'col-muted fx-tps' }, s.takeProfits.map((t, i) => h('div', {}, `TP${i + 1} ${t.toFixed(d)}`))),
      h('td', {}, outcome(s.status)),
      h('td', { class: tone(s.netPips || 0) }, s.netPips === null ? '—' : signed(s.netPips)));
  });
  return h('div', { class: 'table-wrap' }, h('table', { class: 'table fx-table', id: 'fx-history-table' },
    h('thead', {}, h('tr', {}, ['#', 'Opened (UTC)', 'Side', 'Entry', 'Stop', 'Targets', 'Outcome', 'Pips'].map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, rows)));
}

export default async function render(root, ctx) {
  root.append(pageHeader({ title: 'Signals', description: 'The signals the service generated and posted, their progress and outcomes in pips.' }));
  const notice = h('div', { id: 'fx-notice' });
  const open = h('div', { id: 'fx-open-box' });
  const kpis = h('div', { id: 'fx-kpis', class: 'mt-4' });
  const charts = h('div', { id: 'fx-charts', class: 'mt-4' });
  const history = h('div', { id: 'fx-history' });
  let offset = 0;
  const pager = h('div', { class: 'fx-pager', id: 'fx-pager' });
  root.append(notice, open, kpis, charts,
    h('section', { class: 'card mt-4' },
      h('div', { class: 'card-header' }, h('h2', { class: 'card-title' }, 'History')),
      history, pager));

  function showStatus(status) {
    const notes = [];
    if (!status.enabled) {
      notes.push(h('div', { class: 'callout callout-warning mb-4', id: 'fx-off', role: 'note' }, icon('info', { size: 18 }),
        h('span', {}, 'The signals service is off for this workspace. ', h('a', { href: '#forex/strategy' }, 'Turn it on in Strategy & Config'), '.')));
    }
    if (!status.signalBotConnected || status.posting !== 'connected') {
      notes.push(h('div', { class: 'callout mb-4', id: 'fx-connect', role: 'note' }, icon('info', { size: 18 }),
        h('span', {}, status.signalBotConnected ? status.posting : 'Signals are generated and shown here; to post them to your VIP channel, ',
          status.signalBotConnected ? null : h('a', { href: '#settings/connections' }, 'connect a Signal Bot'), status.signalBotConnected ? null : '.')));
    }
    if (status.marketError) {
      notes.push(h('div', { class: 'callout callout-danger mb-4', id: 'fx-market-error', role: 'alert' }, icon('alert', { size: 18 }),
        h('span', {}, `Market data: ${status.marketError}`)));
    }
    const source = status.marketSource === 'replay'
      ? `Replaying bundled real ${status.symbol} ${status.timeframe} bars (the clock follows them): market time ${when(status.marketTime)} UTC.`
      : `Live ${status.symbol} ${status.timeframe} data from Twelve Data.`;
    notes.push(h('p', { class: 'hint mb-4', id: 'fx-source' }, source));
    clear(notice).append(...notes);
    return openCard(status);
  }

  function showPerformance(perf) {
    clear(kpis).append(h('div', { class: 'grid grid-3' },
      stat('Net pips (30 days)', signed(perf.totalPips), 'fx-total', tone(perf.totalPips)),
      stat('Signals closed', String(perf.signals), 'fx-count'),
      stat('In profit', perf.signals ? `${((100 * perf.wins) / perf.signals).toFixed(0)} %` : '—', 'fx-wins')));
    const bars = (buckets, id, title) => h('section', { class: 'card' },
      h('div', { class: 'card-header' }, h('h3', { class: 'card-title' }, title)),
      h('div', { class: 'card-body chart-wrap', id, dataset: { points: String(buckets.length) } },
        buckets.length
          ? signedBarChart({ points: buckets.map((b) => ({ label: b.start.slice(5), value: Math.round(b.pips * 10) / 10, title: `${b.start}: ${signed(b.pips)} pips from ${b.signals} signals` })), ariaLabel: title })
          : h('p', { class: 'col-muted' }, 'No closed signals yet.')));
    return h('div', { class: 'fx-charts' },
      bars(perf.daily, 'fx-daily', 'Pips per day'),
      bars(perf.weekly, 'fx-weekly', 'Pips per week'));
  }

  function showSpark(spark) {
    const points = spark.points.map(([x, y]) => ({ x, y }));
    return h('section', { class: 'card mt-4', id: 'fx-spark', dataset: { points: String(points.length) } },
      h('div', { class: 'card-header' }, h('h3', { class: 'card-title' }, `${spark.symbol} ${spark.timeframe} closes`)),
      h('div', { class: 'card-body chart-wrap' }, points.length > 1
        ? lineChart({ points, height: 160, ariaLabel: `${spark.symbol} price`, xLabel: (x) => when(x).slice(5), yLabel: (v) => v.toFixed(spark.symbol.includes('JPY') || v > 50 ? 2 : 4) })
        : h('p', { class: 'col-muted' }, 'No prices stored yet.')));
  }

  function showHistory(page) {
    clear(pager).append(
      h('span', { class: 'col-muted', id: 'fx-range' }, page.total ? `${offset + 1}–${offset + page.signals.length} of ${page.total}` : ''),
      h('div', { class: 'fx-pager-buttons' },
        h('button', { class: 'btn btn-secondary', type: 'button', id: 'fx-prev', disabled: offset === 0, onclick: () => { offset = Math.max(0, offset - PAGE); loadHistory(); } }, 'Newer'),
        h('button', { class: 'btn btn-secondary', type: 'button', id: 'fx-next', disabled: offset + PAGE >= page.total, onclick: () => { offset += PAGE; loadHistory(); } }, 'Older')));
    return historyTable(page);
  }

  const loadHistory = (keep = false) => loadInto(history, () => get(`/api/forex-signals?limit=${PAGE}&offset=${offset}`, { signal: ctx.signal }), showHistory, { lines: 6, keep, signal: ctx.signal });
  const loadAll = (keep = false) => Promise.all([
    loadInto(open, () => get('/api/signal-bot/status', { signal: ctx.signal }), showStatus, { lines: 4, frame: 'card', keep, signal: ctx.signal }),
    loadInto(charts, async () => {
      const [perf, spark] = await Promise.all([
        get('/api/forex-signals/performance?days=30', { signal: ctx.signal }),
        get('/api/xauusd-sparkline?points=96', { signal: ctx.signal }),
      ]);
      return { perf, spark };
    }, ({ perf, spark }) => [showPerformance(perf), showSpark(spark)], { lines: 4, frame: 'card', keep, signal: ctx.signal }),
    loadHistory(keep),
  ]);
  await loadAll();
  const timer = setInterval(() => { if (!document.hidden) loadAll(true); }, 10_000);
  return () => clearInterval(timer);
}
