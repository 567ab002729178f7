// Signals — placeholder until the issue that builds this page lands.
// Replace this file with the real page module (see docs/ui.md, "Page modules").
import { notBuiltPage } from '../ui.js';

export default notBuiltPage({
  iconName: 'pulse',
  title: 'Signals',
  description: 'XAU/USD signals posted by the bot.',
  plan: 'A live list of signals with entry, TP1–TP3 and stop loss, their outcome in pips, and daily and weekly performance.',
});
