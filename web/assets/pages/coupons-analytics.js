// Analytics — placeholder until the issue that builds this page lands.
// Replace this file with the real page module (see docs/ui.md, "Page modules").
import { notBuiltPage } from '../ui.js';

export default notBuiltPage({
  iconName: 'analytics',
  title: 'Analytics',
  description: 'How your coupon bot is used.',
  plan: 'Charts of generations, active users and popular templates for today, yesterday and the last 7, 30 or 90 days.',
});
