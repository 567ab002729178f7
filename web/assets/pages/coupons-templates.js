// Templates — placeholder until the issue that builds this page lands.
// Replace this file with the real page module (see docs/ui.md, "Page modules").
import { notBuiltPage } from '../ui.js';

export default notBuiltPage({
  iconName: 'templates',
  title: 'Templates',
  description: 'The designs your coupon images are rendered from.',
  plan: 'Upload template images, draw the text and logo areas, set colours and choose which templates the Telegram bot offers.',
});
