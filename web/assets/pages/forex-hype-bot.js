// Hype Bot — placeholder until the issue that builds this page lands.
// Replace this file with the real page module (see docs/ui.md, "Page modules").
import { notBuiltPage } from '../ui.js';

export default notBuiltPage({
  iconName: 'flame',
  title: 'Hype Bot',
  description: 'AI-written motivational posts for your free channel.',
  plan: 'Write prompts and posting flows, preview generated messages, trigger them by hand and see per-flow analytics.',
});
