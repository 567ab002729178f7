// The dashboard shell: session check, product switcher, feature sidebar, top bar,
// hash routing with lazily imported page modules, and the mobile navigation overlay.
import * as apiModule from './api.js';
import { get, post, getTenantId, setTenantId } from './api.js';
import { h, clear, icon, toast, emptyState, errorState, loadInto, roleLabel } from './ui.js';
import { PRODUCTS, DEFAULT_ROUTE, resolve, findProduct, moduleUrl } from './routes.js';

const $ = (id) => document.getElementById(id);
const els = {
  boot: $('boot'), bootText: $('boot-text'), app: $('app'),
  panels: $('nav-panels'), railList: $('rail-list'),
  sidebarTitle: $('sidebar-title'), sidebarTagline: $('sidebar-tagline'), sidebarList: $('sidebar-list'), sidebarFooter: $('sidebar-footer'),
  backdrop: $('backdrop'), menuButton: $('menu-button'), navClose: $('nav-close'),
  crumbProduct: $('crumb-product'), crumbPage: $('crumb-page'),
  tenant: $('tenant'), user: $('user'), logout: $('logout'), content: $('content'), skip: $('skip-link'),
};

const mobileQuery = matchMedia('(max-width: 767.98px)');

const state = {
  me: null,
  navToken: 0,
  cleanup: null,
  controller: null,
  sidebarProduct: null,
  lastPage: {},          // product id -> last visited page id
  keepNavOpen: false,    // a product was picked in the mobile overlay: keep it open for the page choice
  firstRoute: true,
};

// ---------- session ----------

async function loadMe() {
  try {
    return await get('/api/me');
  } catch (err) {
    // A stored workspace the user no longer belongs to: forget it and ask again.
    if ((err.status === 403 || err.status === 404) && getTenantId()) {
      setTenantId('');
      return get('/api/me');
    }
    throw err;
  }
}

async function refreshMe() {
  state.me = await loadMe();
  renderTopbar();
  return state.me;
}

function canManage(me = state.me) {
  return Boolean(me && (me.role === 'owner' || me.role === 'admin' || me.platformAdmin));
}

// ---------- chrome ----------

function renderStatic() {
  els.menuButton.append(icon('menu', { size: 22 }));
  els.navClose.append(icon('close', { size: 20 }));
  els.logout.append(icon('logout', { size: 18 }), h('span', { class: 'logout-label' }, 'Log out'));

  for (const product of PRODUCTS) {
    const link = h('a', {
      class: 'rail-item', href: '#' + product.id + '/' + product.pages[0].id,
      'aria-label': product.label, 'data-tooltip': product.label, 'data-product': product.id,
    }, icon(product.icon, { size: 22 }));
    link.addEventListener('click', () => {
      if (mobileQuery.matches && link.getAttribute('href') !== location.hash) state.keepNavOpen = true;
    });
    els.railList.append(h('li', null, link));
  }
  const year = new Date().getFullYear();
  els.sidebarFooter.append(icon('logo', { size: 14 }), h('span', null, 'PromoStack · ' + year));
}

function renderSidebar(product) {
  if (state.sidebarProduct === product.id) return;
  state.sidebarProduct = product.id;
  els.sidebarTitle.textContent = product.label;
  els.sidebarTagline.textContent = product.tagline || '';
  clear(els.sidebarList);
  let group = null;
  for (const page of product.pages) {
    if (page.group && page.group !== group) {
      els.sidebarList.append(h('li', { class: 'sidebar-group', role: 'presentation' }, page.group));
    }
    group = page.group || null;
    const link = h('a', {
      class: 'sidebar-link', href: '#' + product.id + '/' + page.id, 'data-page': page.id,
    }, icon(page.icon, { size: 18 }), h('span', null, page.label));
    link.addEventListener('click', () => closeNav({ restoreFocus: false }));
    els.sidebarList.append(h('li', null, link));
  }
}

function highlight(product, page) {
  for (const a of els.railList.querySelectorAll('.rail-item')) {
    const p = findProduct(a.dataset.product);
    if (state.lastPage[p.id]) a.setAttribute('href', '#' + p.id + '/' + state.lastPage[p.id]);
    if (product && a.dataset.product === product.id) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  for (const a of els.sidebarList.querySelectorAll('.sidebar-link')) {
    if (page && a.dataset.page === page.id) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

function initials(me) {
  const src = me.email || 'Admin';
  const name = src.split('@')[0].replace(/[^a-zA-Z0-9]+/g, ' ').trim();
  const parts = name.split(' ').filter(Boolean);
  return ((parts[0] || 'A')[0] + (parts[1] ? parts[1][0] : '')).toUpperCase();
}

function renderTopbar() {
  const me = state.me;
  clear(els.tenant);
  const tenants = Array.isArray(me.tenants) ? me.tenants : [];
  if (tenants.length > 1) {
    const select = h('select', { class: 'select tenant-select', id: 'tenant-select', 'aria-label': 'Workspace' });
    for (const t of tenants) {
      select.append(h('option', { value: t.id, selected: me.tenant && t.id === me.tenant.id }, t.name));
    }
    select.addEventListener('change', () => switchTenant(select.value));
    els.tenant.classList.add('tenant-switchable');
    els.tenant.append(icon('building', { size: 16 }), select);
  } else {
    els.tenant.classList.remove('tenant-switchable');
    els.tenant.append(icon('building', { size: 16 }),
      h('span', { class: 'tenant-name', id: 'tenant-name', title: me.tenant ? me.tenant.name : '' }, me.tenant ? me.tenant.name : 'No workspace'));
  }

  clear(els.user);
  const who = me.email || 'Administrator';
  const role = me.platformAdmin ? roleLabel(me.role) + ' · Platform admin' : roleLabel(me.role);
  els.user.append(
    h('span', { class: 'avatar avatar-sm', 'aria-hidden': 'true' }, initials(me)),
    h('span', { class: 'user-text' },
      h('span', { class: 'user-email', id: 'user-email', title: who }, who),
      h('span', { class: 'user-role', id: 'user-role' }, role)));
  els.user.setAttribute('aria-label', 'Signed in as ' + who + ', ' + role);
  els.user.setAttribute('role', 'group');
}

async function switchTenant(id) {
  const previous = getTenantId();
  setTenantId(id);
  try {
    await refreshMe();
    state.sidebarProduct = null;
    route();
    toast('Switched to ' + (state.me.tenant ? state.me.tenant.name : 'workspace'), 'success');
  } catch (err) {
    setTenantId(previous);
    toast(err.message, 'error');
    renderTopbar();
  }
}

async function logout() {
  els.logout.disabled = true;
  try {
    await post('/api/logout', {}, { redirectOn401: false });
  } catch (err) {
    if (err.status !== 401) {
      els.logout.disabled = false;
      toast('Could not log out: ' + err.message, 'error');
      return;
    }
  }
  location.assign('/login');
}

// ---------- mobile overlay ----------

function isNavOpen() {
  return els.app.classList.contains('nav-open');
}

function syncInert() {
  // Off-canvas links must not be reachable by Tab while the overlay is closed on small screens.
  els.panels.inert = mobileQuery.matches && !isNavOpen();
}

function openNav() {
  els.app.classList.add('nav-open');
  els.backdrop.hidden = false;
  els.menuButton.setAttribute('aria-expanded', 'true');
  els.menuButton.setAttribute('aria-label', 'Close navigation');
  syncInert();
  const target = els.sidebarList.querySelector('[aria-current="page"]') || els.sidebarList.querySelector('a');
  if (target) target.focus();
}

function closeNav({ restoreFocus = true } = {}) {
  if (!isNavOpen()) return;
  const hadFocus = els.panels.contains(document.activeElement);
  els.app.classList.remove('nav-open');
  els.backdrop.hidden = true;
  els.menuButton.setAttribute('aria-expanded', 'false');
  els.menuButton.setAttribute('aria-label', 'Open navigation');
  syncInert();
  if (restoreFocus && hadFocus) els.menuButton.focus();
}

function wireNavigation() {
  els.menuButton.addEventListener('click', () => (isNavOpen() ? closeNav() : openNav()));
  els.navClose.addEventListener('click', () => closeNav());
  els.backdrop.addEventListener('click', () => closeNav());
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && isNavOpen() && !document.querySelector('dialog[open]')) {
      e.preventDefault();
      closeNav();
    }
  });
  mobileQuery.addEventListener('change', () => {
    if (!mobileQuery.matches) closeNav({ restoreFocus: false });
    syncInert();
  });
  // Arrow keys move between items of the product switcher and of the sidebar.
  for (const list of [els.railList, els.sidebarList]) {
    list.addEventListener('keydown', (e) => {
      if (!['ArrowDown', 'ArrowUp', 'Home', 'End'].includes(e.key)) return;
      const links = [...list.querySelectorAll('a')];
      const i = links.indexOf(document.activeElement);
      if (i < 0) return;
      e.preventDefault();
      let j = i;
      if (e.key === 'ArrowDown') j = (i + 1) % links.length;
      if (e.key === 'ArrowUp') j = (i - 1 + links.length) % links.length;
      if (e.key === 'Home') j = 0;
      if (e.key === 'End') j = links.length - 1;
      links[j].focus();
    });
  }
  els.skip.addEventListener('click', () => focusContent());
  els.logout.addEventListener('click', logout);
  window.addEventListener('hashchange', route);
}

function focusContent() {
  const heading = els.content.querySelector('h1');
  (heading || els.content).focus({ preventScroll: false });
}

// ---------- routing ----------

function setTitle(product, pageLabel) {
  els.crumbProduct.textContent = product ? product.label : '';
  els.crumbProduct.hidden = !product;
  els.crumbProduct.nextElementSibling.hidden = !product;
  els.crumbPage.textContent = pageLabel;
  document.title = [pageLabel, product && product.label, 'PromoStack'].filter(Boolean).join(' · ');
}

function notFoundView(path) {
  const home = '#' + DEFAULT_ROUTE;
  return emptyState({
    iconName: 'compass',
    level: 1,
    title: 'Page not found',
    text: 'Nothing lives at “#' + path + '”. The link may be old or mistyped — pick a page from the sidebar, or start again from the Coupon Generator.',
    actions: [
      h('a', { class: 'btn btn-primary', href: home }, icon('arrowLeft', { size: 16 }), 'Go to Coupon Generator'),
      h('a', { class: 'btn btn-secondary', href: '#settings/system' }, 'System status'),
    ],
  });
}

async function route() {
  const r = resolve(location.hash);
  if (r.redirect) {
    history.replaceState(null, '', '#' + r.redirect);
    return route();
  }
  if (state.keepNavOpen) state.keepNavOpen = false;
  else closeNav({ restoreFocus: false });

  // Leave the previous page: abort its requests, run its cleanup.
  const token = ++state.navToken;
  if (state.controller) state.controller.abort();
  if (typeof state.cleanup === 'function') {
    try { state.cleanup(); } catch (err) { console.error(err); }
  }
  state.cleanup = null;
  state.controller = new AbortController();
  const focusAfter = !state.firstRoute;
  state.firstRoute = false;

  const sidebarProduct = r.product || findProduct(state.sidebarProduct) || PRODUCTS[0];
  renderSidebar(sidebarProduct);

  if (r.notFound) {
    highlight(r.product || null, null);
    setTitle(r.product || null, 'Not found');
    els.content.dataset.route = 'not-found';
    clear(els.content).append(h('section', { class: 'card', 'data-view': 'not-found' }, notFoundView(r.path)));
    if (focusAfter) focusContent();
    return;
  }

  const { product, page } = r;
  state.lastPage[product.id] = page.id;
  highlight(product, page);
  setTitle(product, page.label);
  els.content.dataset.route = product.id + '/' + page.id;
  // The controller's signal is aborted by the next navigation, which drops a late answer here.
  const mod = await loadInto(els.content, () => import(moduleUrl(product, page)), null, {
    lines: 4,
    signal: state.controller.signal,
    error: (err) => {
      console.error(err);
      return h('section', { class: 'card' },
        errorState('This page could not be loaded (' + (err.message || 'network error') + ').', () => route()));
    },
  });
  if (!mod || token !== state.navToken) return;

  const root = h('div', { class: 'page', 'data-page': product.id + '-' + page.id });
  clear(els.content).append(root);
  const ctx = {
    me: state.me,
    tenant: state.me.tenant,
    canManage: canManage(),
    product, page,
    params: r.params || [],
    signal: state.controller.signal,
    api: apiModule,
    toast,
    refreshMe,
    navigate: (hash) => { location.hash = hash; },
    // Run this page again from the start (the retry of a page whose whole body needs its data).
    reload: () => { route(); },
  };
  try {
    const result = await mod.default(root, ctx);
    if (token !== state.navToken) {
      if (typeof result === 'function') result();
      return;
    }
    if (typeof result === 'function') state.cleanup = result;
  } catch (err) {
    if (token !== state.navToken || (err && err.name === 'AbortError')) return;
    console.error(err);
    clear(root).append(h('section', { class: 'card' }, errorState(err.message || 'Unexpected error.', () => route())));
  }
  if (focusAfter && token === state.navToken) focusContent();
}

// ---------- start ----------

async function boot() {
  try {
    state.me = await loadMe();
  } catch (err) {
    if (err.status === 401) return; // api.js is already redirecting to /login
    els.bootText.textContent = 'Could not load your dashboard: ' + err.message;
    const retry = h('button', { class: 'btn btn-secondary', type: 'button', onclick: () => location.reload() }, 'Try again');
    els.boot.append(retry);
    els.boot.querySelector('.brand-mark').style.animation = 'none';
    return;
  }
  const stored = getTenantId();
  if (stored && !(state.me.tenants || []).some((t) => t.id === stored)) setTenantId('');

  renderStatic();
  renderTopbar();
  wireNavigation();
  els.boot.hidden = true;
  els.app.hidden = false;
  syncInert();
  await route();
}

boot();
