#!/usr/bin/env -S MALLOC_ARENA_MAX=2 node --max-semi-space-size=1
// The two settings above hold the gateway's memory down; they apply when this file is executed
// (`sendguard`, `npm start`), not under `node sendguard.js`, which runs without them. Both must be
// set before the process starts, so here and not in code. Measured with a 100 MB attachment
// (`npm run bench -- attachments` prints both ways side by side):
//  - MALLOC_ARENA_MAX=2: every worker thread that allocates gets a glibc malloc arena of its own,
//    and the freed chunks of a streamed attachment stay in it; two arenas share them instead.
//  - --max-semi-space-size=1 (MiB): V8's young generation grew to 16 MiB semi-spaces at start-up
//    and stayed there, and the bytes of dead 64 KiB chunks waited for it to fill; 1 MiB is swept
//    more often, at a small cost per sweep (few chunk objects survive one).
import { main } from "../dist/cli.js";

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== 0) process.exit(code);
  },
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
