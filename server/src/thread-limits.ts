// The V8 heap limits of the gateway's worker threads that stream files (separation, encrypted
// ZIP, relay). Each of their 64 KiB chunks is a small JS object with its bytes outside the heap,
// so a large young generation only lets the bytes of dead chunks pile up until it is full: V8
// grew the separation thread's young generation to 32 MB for a 100 MB attachment, and the chunks
// it had not yet collected stayed in the process's RSS. A 4 MB one is swept often, cheaply (the
// survivors are few), and frees the chunks' bytes as it goes.
import type { ResourceLimits } from "node:worker_threads";

export const STREAMING_THREAD_LIMITS: ResourceLimits = { maxYoungGenerationSizeMb: 4 };
