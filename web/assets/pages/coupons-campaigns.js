// Campaigns — placeholder until the issue that builds this page lands.
// Replace this file with the real page module (see docs/ui.md, "Page modules").
import { notBuiltPage } from '../ui.js';

export default notBuiltPage({
  iconName: 'flag',
  title: 'Campaigns',
  description: 'Photo campaigns with branded overlays.',
  plan: 'Create campaigns with an overlay image, share a public page where people upload photos and social links, and review the entries.',
});
