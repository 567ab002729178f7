// The route table of the dashboard: products (the 60 px switcher) and their pages
// (the 240 px sidebar). A route is `#<product>/<page>`; its module is
// /assets/pages/<product>-<page>.js, loaded with import() the first time it is opened.
// To add a page: add an entry here and drop the module file in pages/.

export const PRODUCTS = [
  {
    id: 'coupons',
    label: 'Coupon Bot',
    icon: 'coupon',
    tagline: 'Coupon images, bot, campaigns',
    pages: [
      { id: 'generator', label: 'Generator', icon: 'generator' },
      { id: 'templates', label: 'Templates', icon: 'templates' },
      { id: 'coupons', label: 'Coupons', icon: 'tag' },
      { id: 'broadcasts', label: 'Broadcasts', icon: 'broadcast' },
      { id: 'analytics', label: 'Analytics', icon: 'analytics' },
      { id: 'campaigns', label: 'Campaigns', icon: 'flag' },
    ],
  },
  {
    id: 'forex',
    label: 'Forex Signals',
    icon: 'forex',
    tagline: 'XAU/USD signals and VIP',
    pages: [
      { id: 'signals', label: 'Signals', icon: 'pulse' },
      { id: 'strategy', label: 'Strategy & Config', icon: 'target' },
      { id: 'subscriptions', label: 'Subscriptions', icon: 'card' },
      { id: 'support-chat', label: 'Support Chat', icon: 'chat', group: 'Journeys' },
      { id: 'hype-bot', label: 'Hype Bot', icon: 'flame', group: 'Journeys' },
    ],
  },
  {
    id: 'settings',
    label: 'Settings',
    icon: 'settings',
    tagline: 'Workspace and system',
    pages: [
      { id: 'workspace', label: 'Workspace', icon: 'building' },
      { id: 'members', label: 'Members', icon: 'users' },
      { id: 'connections', label: 'Connections', icon: 'share' },
      { id: 'system', label: 'System', icon: 'server' },
    ],
  },
];

export const DEFAULT_ROUTE = 'coupons/generator';

// Old hashes that still arrive from bookmarks and bot messages.
export const REDIRECTS = {
  'forex/journeys': 'forex/support-chat',
};

export function findProduct(id) {
  return PRODUCTS.find((p) => p.id === id) || null;
}

/** Parse a location.hash into {product, page} or a redirect/not-found marker. */
export function resolve(hash) {
  const raw = String(hash || '').replace(/^#\/?/, '').replace(/\/+$/, '');
  if (!raw) return { redirect: DEFAULT_ROUTE };
  const path = raw.split('?')[0];
  if (REDIRECTS[path]) return { redirect: REDIRECTS[path] };
  const [productId, pageId, ...rest] = path.split('/');
  const product = findProduct(productId);
  if (!product) return { notFound: true, path };
  if (!pageId) return { redirect: product.id + '/' + product.pages[0].id };
  const page = product.pages.find((p) => p.id === pageId);
  if (!page) return { notFound: true, path, product };
  // Anything after the page (e.g. #coupons/templates/black-friday) is handed to the page.
  return { product, page, path, params: rest.map(safeDecode) };
}

export function moduleUrl(product, page) {
  return './pages/' + product.id + '-' + page.id + '.js';
}

function safeDecode(s) {
  try { return decodeURIComponent(s); } catch { return s; }
}
