// PromoStack icon set: drawn for this project on a 24x24 grid, stroke-based.
// Each icon is a list of [tag, attributes]; icon(name) builds the SVG with DOM calls
// (no innerHTML), so icons are safe to use anywhere.

const SVG_NS = 'http://www.w3.org/2000/svg';

const P = (d) => ['path', { d }];

export const ICONS = {
  logo: [P('M12 2.8 21 7.5l-9 4.7-9-4.7z'), P('M3 12l9 4.7 9-4.7'), P('M3 16.5l9 4.7 9-4.7')],
  coupon: [P('M3 6h18v4a2 2 0 0 0 0 4v4H3v-4a2 2 0 0 0 0-4z'), ['path', { d: 'M14.5 6.5v11', 'stroke-dasharray': '1.6 2.2' }]],
  forex: [
    P('M3.5 20h17'),
    ['rect', { x: 6, y: 9, width: 3.2, height: 6.5, rx: 0.6 }], P('M7.6 5.5V9M7.6 15.5v2.2'),
    ['rect', { x: 14.6, y: 6, width: 3.2, height: 6.5, rx: 0.6 }], P('M16.2 3.2V6M16.2 12.5v3.4'),
  ],
  settings: [P('M4 6h9M17 6h3M4 12h3M11 12h9M4 18h11M19 18h1'), ['circle', { cx: 15, cy: 6, r: 2 }], ['circle', { cx: 9, cy: 12, r: 2 }], ['circle', { cx: 17, cy: 18, r: 2 }]],
  generator: [P('M11 3.5l1.9 5.1 5.1 1.9-5.1 1.9L11 17.5l-1.9-5.1L4 10.5l5.1-1.9z'), P('M18.5 15v5M16 17.5h5')],
  templates: [['rect', { x: 3.5, y: 4, width: 17, height: 16, rx: 2 }], P('M3.5 9.5h17M9.5 9.5V20')],
  tag: [P('M3.5 4.5v7l9 9 7.5-7.5-9-9h-7z'), ['circle', { cx: 8, cy: 9, r: 1.5 }]],
  broadcast: [P('M4 9.5v5h3l7.5 4.5V5L7 9.5z'), P('M17.5 9a4 4 0 0 1 0 6'), P('M7 14.5 8.2 20h2.3')],
  analytics: [P('M3.5 20h17'), P('M7 16.5v-5M12 16.5V6.5M17 16.5v-8')],
  flag: [P('M5.5 21V3.5'), P('M5.5 4.5h12.5l-2.5 4.25 2.5 4.25H5.5')],
  pulse: [P('M3 12.5h4l3-7.5 4 15 3-7.5h4')],
  target: [['circle', { cx: 12, cy: 12, r: 8.5 }], ['circle', { cx: 12, cy: 12, r: 4.5 }], ['circle', { cx: 12, cy: 12, r: 0.8 }]],
  card: [['rect', { x: 3, y: 5.5, width: 18, height: 13, rx: 2 }], P('M3 10h18M7 14.5h4')],
  chat: [P('M4 5h16v11H9.5L5 19.5V16H4z'), P('M8 9h8M8 12.2h5')],
  flame: [P('M12 3c1 4.2 5.5 5.6 5.5 10.3a5.5 5.5 0 0 1-11 0c0-2.6 1.4-3.9 2.2-5.9.9 1.5 1.6 2.1 2.6 2.6C11.8 7.9 12 5.3 12 3z')],
  building: [P('M5 20.5V5.5l7-2.3v17.3M12 8.5h7v12M3 20.5h18'), P('M8 8.5h1M8 12.5h1M8 16.5h1M15 12.5h1M15 16.5h1')],
  users: [['circle', { cx: 9, cy: 8, r: 3.2 }], P('M3 20c0-3.4 2.7-6 6-6s6 2.6 6 6'), P('M15.5 5a3.2 3.2 0 0 1 0 6'), P('M17.8 14.3c2 .8 3.2 2.9 3.2 5.7')],
  server: [['rect', { x: 3.5, y: 4, width: 17, height: 7, rx: 1.6 }], ['rect', { x: 3.5, y: 13, width: 17, height: 7, rx: 1.6 }], P('M7.5 7.5h.01M7.5 16.5h.01M12 7.5h4.5M12 16.5h4.5')],
  menu: [P('M4 7h16M4 12h16M4 17h16')],
  close: [P('M6 6l12 12M18 6 6 18')],
  logout: [P('M10 4H5.5v16H10'), P('M15 8l4 4-4 4'), P('M19 12H9.5')],
  plus: [P('M12 5v14M5 12h14')],
  trash: [P('M4 7h16M9.5 7V4.5h5V7M6.5 7l1 13h9l1-13'), P('M10.5 11v5.5M13.5 11v5.5')],
  compass: [['circle', { cx: 12, cy: 12, r: 9 }], P('M15.5 8.5l-2 5-5 2 2-5z')],
  cone: [P('M10.2 4h3.6l4.4 15.5H5.8z'), P('M8.4 10.5h7.2M7.3 15h9.4'), P('M3.5 19.5h17')],
  check: [P('M5 12.5l4.5 4.5L19 7.5')],
  alert: [P('M12 3.5 21.5 20h-19z'), P('M12 10v4.5M12 17.3v.01')],
  info: [['circle', { cx: 12, cy: 12, r: 9 }], P('M12 11v5.5M12 7.7v.01')],
  chevronDown: [P('M6.5 9.5 12 15l5.5-5.5')],
  user: [['circle', { cx: 12, cy: 8, r: 4 }], P('M4.5 20.5c0-4 3.4-6.5 7.5-6.5s7.5 2.5 7.5 6.5')],
  refresh: [P('M19.5 12a7.5 7.5 0 1 1-2.2-5.3'), P('M19.5 4v4.5H15')],
  eye: [P('M2.5 12S6 5.5 12 5.5 21.5 12 21.5 12 18 18.5 12 18.5 2.5 12 2.5 12z'), ['circle', { cx: 12, cy: 12, r: 3 }]],
  eyeOff: [P('M4 4l16 16'), P('M9.9 5.8A9.5 9.5 0 0 1 12 5.5c6 0 9.5 6.5 9.5 6.5a16 16 0 0 1-2.6 3.4M6.4 7.3C3.9 9 2.5 12 2.5 12S6 18.5 12 18.5c1.6 0 3-.4 4.2-1'), P('M10 10.2a3 3 0 0 0 4 4')],
  lock: [['rect', { x: 5, y: 10.5, width: 14, height: 10, rx: 2 }], P('M8 10.5V7.5a4 4 0 0 1 8 0v3')],
  arrowLeft: [P('M19 12H5M11 6l-6 6 6 6')],
  download: [P('M12 4v11M7.5 10.5 12 15l4.5-4.5'), P('M4.5 19.5h15')],
  upload: [P('M12 15.5v-11M7.5 9 12 4.5 16.5 9'), P('M4.5 19.5h15')],
  share: [['circle', { cx: 17.5, cy: 5.5, r: 2.5 }], ['circle', { cx: 6.5, cy: 12, r: 2.5 }], ['circle', { cx: 17.5, cy: 18.5, r: 2.5 }], P('M8.7 10.8l6.6-4M8.7 13.2l6.6 4')],
  clock: [['circle', { cx: 12, cy: 12, r: 9 }], P('M12 7v5l3.5 2')],
};

/**
 * Build an <svg> icon element. Decorative by default (aria-hidden); pass a label to make it
 * an image with an accessible name.
 */
export function icon(name, { size = 20, label, className = '' } = {}) {
  const parts = ICONS[name] || ICONS.info;
  const svg = document.createElementNS(SVG_NS, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('width', String(size));
  svg.setAttribute('height', String(size));
  svg.setAttribute('fill', 'none');
  svg.setAttribute('stroke', 'currentColor');
  svg.setAttribute('stroke-width', '1.8');
  svg.setAttribute('stroke-linecap', 'round');
  svg.setAttribute('stroke-linejoin', 'round');
  svg.setAttribute('class', ('icon ' + className).trim());
  if (label) {
    svg.setAttribute('role', 'img');
    svg.setAttribute('aria-label', label);
  } else {
    svg.setAttribute('aria-hidden', 'true');
    svg.setAttribute('focusable', 'false');
  }
  for (const [tag, attrs] of parts) {
    const el = document.createElementNS(SVG_NS, tag);
    for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
    svg.appendChild(el);
  }
  return svg;
}
