// The eleven CVO groups, most valuable first, as the server names them.
// Used when the segments endpoint has not answered (a fresh install).
export const KNOWN_GROUPS: {slug: string; name: string}[] = [
  {slug: 'soulmates', name: 'Soulmates'},
  {slug: 'lovers', name: 'Lovers'},
  {slug: 'potential-lovers', name: 'Potential Lovers'},
  {slug: 'new-passion', name: 'New Passion'},
  {slug: 'apprentice', name: 'Apprentice'},
  {slug: 'don-juan', name: 'Don Juan'},
  {slug: 'flirting', name: 'Flirting'},
  {slug: 'platonic-friends', name: 'Platonic Friends'},
  {slug: 'about-to-dump-you', name: 'About to Dump You'},
  {slug: 'ex-lovers', name: 'Ex-Lovers'},
  {slug: 'break-up', name: 'Break-Up'},
];
