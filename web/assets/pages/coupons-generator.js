// Generator — placeholder until the issue that builds this page lands.
// Replace this file with the real page module (see docs/ui.md, "Page modules").
import { notBuiltPage } from '../ui.js';

export default notBuiltPage({
  iconName: 'generator',
  title: 'Generator',
  description: 'Create branded coupon images from your templates.',
  plan: 'Pick a template, type a coupon code and get a ready-to-post image with a live preview, in square and portrait sizes.',
});
