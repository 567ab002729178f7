// Support Chat — placeholder until the issue that builds this page lands.
// Replace this file with the real page module (see docs/ui.md, "Page modules").
import { notBuiltPage } from '../ui.js';

export default notBuiltPage({
  iconName: 'chat',
  title: 'Support Chat',
  description: 'Conversational journeys in direct messages.',
  plan: 'Build multi-step journeys triggered by deep links or keywords, with questions, delays and reply branching, and see step analytics.',
});
