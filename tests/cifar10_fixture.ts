/**
 * A small generated CIFAR-10 directory for tests: six batch files in the official layout whose
 * label shows in the pixels (a bright band of the image), over seeded noise.
 */
import { randomKey, uniforms } from "../lib/random.ts";

/** Writes data_batch_1 … data_batch_5 and test_batch, `records` records each, into `directory`. */
export async function writeSmallCifar10(
  directory: string,
  records: number,
  seed = 0,
): Promise<void> {
  const names = [
    "data_batch_1",
    "data_batch_2",
    "data_batch_3",
    "data_batch_4",
    "data_batch_5",
    "test_batch",
  ];
  for (const [fileIndex, name] of names.entries()) {
    const noise = uniforms(randomKey(seed + fileIndex), records * 3072).values;
    const bytes = new Uint8Array(records * 3073);
    for (let r = 0; r < records; r++) {
      const label = (r * 7 + fileIndex) % 10;
      bytes[r * 3073] = label;
      for (let p = 0; p < 3072; p++) {
        const signal = Math.floor(p / 307.2) === label ? 110 : 0;
        bytes[r * 3073 + 1 + p] = signal + Math.floor(noise[r * 3072 + p] * 140);
      }
    }
    await Deno.writeFile(`${directory}/${name}.bin`, bytes);
  }
}
