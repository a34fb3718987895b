// Vite empties dist/ before building; the repository tracks dist/.keep so
// the Go embed directive has a directory to embed before the first build.
import {writeFileSync} from 'node:fs';

writeFileSync(new URL('../dist/.keep', import.meta.url), '');
