// Loaded before every test file and its worker threads (scripts/run-tests.js; plain JavaScript because
// a worker started without tsx must load it too). A test that runs the CLI (spawnSync) blocks
// its event loop; on a busy machine that takes over 5 s, the gateway closes the idle keep-alive
// connection meanwhile, and the next fetch reuses the socket before it has seen it closed: "fetch
// failed" (ECONNRESET), reproduced with a 6 s block. Tests open a connection per request instead
// (loopback: cheap); benchmarks do not load this.
import { Agent, setGlobalDispatcher } from "undici";

setGlobalDispatcher(new Agent({ pipelining: 0 }));
