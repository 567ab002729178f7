// Strategy & Config — placeholder until the issue that builds this page lands.
// Replace this file with the real page module (see docs/ui.md, "Page modules").
import { notBuiltPage } from '../ui.js';

export default notBuiltPage({
  iconName: 'target',
  title: 'Strategy & Config',
  description: 'How signals are generated and posted.',
  plan: 'Choose the active strategy, tune its indicators and risk settings, and set trading hours and channel posting rules.',
});
