// Coupons — placeholder until the issue that builds this page lands.
// Replace this file with the real page module (see docs/ui.md, "Page modules").
import { notBuiltPage } from '../ui.js';

export default notBuiltPage({
  iconName: 'tag',
  title: 'Coupons',
  description: 'The coupon codes your bot accepts.',
  plan: 'List and validate the codes customers may use, or connect your coupon CRM so codes are checked live.',
});
