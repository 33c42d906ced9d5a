/**
 * Ctrl-C and SIGTERM for a CPU-bound loop: signal handlers run on the event loop, which a
 * synchronous training loop never gives a turn, so a Worker listens instead and sets a flag in
 * shared memory that the loop reads after every update.
 *
 * @module
 */

/** Which signal arrived, if any, and how to stop listening. */
export interface Interrupts {
  /** `"SIGINT"` or `"SIGTERM"` once one has arrived. */
  requested(): "SIGINT" | "SIGTERM" | undefined;
  /** Stops listening (the process then exits normally when done). */
  stop(): void;
}

/**
 * Starts listening for SIGINT and SIGTERM; from then on they no longer end the process at
 * once — the caller checks `requested()` and exits itself.
 *
 * @example
 * ```ts ignore
 * import { watchInterrupts } from "./interrupts.ts";
 * const interrupts = await watchInterrupts();
 * while (!interrupts.requested()) { /* work *\/ }
 * interrupts.stop();
 * ```
 */
export async function watchInterrupts(): Promise<Interrupts> {
  const shared = new SharedArrayBuffer(4);
  const flag = new Int32Array(shared);
  const worker = new Worker(new URL("./interrupt_worker.ts", import.meta.url), { type: "module" });
  const listening = new Promise((resolve) => worker.onmessage = resolve);
  worker.postMessage(shared);
  await listening;
  return {
    requested: () => {
      const signal = Atomics.load(flag, 0);
      return signal === 2 ? "SIGINT" : signal === 15 ? "SIGTERM" : undefined;
    },
    stop: () => worker.terminate(),
  };
}
