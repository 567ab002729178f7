// Broadcasts — placeholder until the issue that builds this page lands.
// Replace this file with the real page module (see docs/ui.md, "Page modules").
import { notBuiltPage } from '../ui.js';

export default notBuiltPage({
  iconName: 'broadcast',
  title: 'Broadcasts',
  description: 'Messages sent to everyone who uses your bot.',
  plan: 'Write a message, send it to all bot users in the background and follow delivery progress per broadcast.',
});
