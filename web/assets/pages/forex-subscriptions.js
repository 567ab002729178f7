// Subscriptions — placeholder until the issue that builds this page lands.
// Replace this file with the real page module (see docs/ui.md, "Page modules").
import { notBuiltPage } from '../ui.js';

export default notBuiltPage({
  iconName: 'card',
  title: 'Subscriptions',
  description: 'Paying members of your VIP channel.',
  plan: 'Stripe subscribers with their Telegram access, manual grants and cancellations, and revenue metrics.',
});
