/**
 * For tests that compare the backends' results: which backends can run here, a bit-for-bit
 * comparison that stays cheap when it fails (assert.deepEqual would diff every entry), and
 * random operands of either precision.
 */
import { type BackendName, useBackend } from "../lib/backend.ts";
import { normals, randomKey } from "../lib/random.ts";
import { castTensor, type DType, type Tensor, tensor } from "../lib/tensor.ts";

/**
 * ml-matrix and wasm always; OpenBLAS too where --allow-ffi is granted and the library loads
 * (which leaves it the process's backend).
 */
export function availableBackends(): BackendName[] {
  const backends: BackendName[] = ["ml-matrix", "wasm"];
  try {
    if (Deno.permissions.querySync({ name: "ffi" }).state === "granted") {
      useBackend("openblas");
      backends.push("openblas");
    }
  } catch {
    // OpenBLAS is not installed here; the other backends are still checked.
  }
  return backends;
}

/** Whether two arrays hold the same values bit for bit (NaN equal to NaN, −0 apart from 0). */
export function sameBits(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

/** A rows × columns tensor of standard normal values drawn from `seed`, in `dtype`. */
export function randomTensor<R extends number, C extends number>(
  rows: R,
  columns: C,
  seed: number,
  dtype: DType,
): Tensor<R, C> {
  return castTensor(tensor(rows, columns, normals(randomKey(seed), rows * columns).values), dtype);
}
