/**
 * Listens for SIGINT and SIGTERM on its own event loop and records which arrived in a shared
 * flag, so a training loop that never yields can still notice them (see interrupts.ts).
 *
 * @module
 */
/// <reference lib="deno.worker" />

self.onmessage = (event: MessageEvent<SharedArrayBuffer>) => {
  const flag = new Int32Array(event.data);
  Deno.addSignalListener("SIGINT", () => Atomics.store(flag, 0, 2));
  Deno.addSignalListener("SIGTERM", () => Atomics.store(flag, 0, 15));
  self.postMessage("listening");
};
