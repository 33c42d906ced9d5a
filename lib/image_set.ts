/**
 * The in-memory form of an image data set (CIFAR-10, Fashion-MNIST): raw bytes, one label each.
 *
 * @module
 */

/**
 * n labelled samples of `features` bytes each, stored sample-major: sample i is pixels[i*features .. (i+1)*features).
 *
 * Labels are class indices into `classNames`; pixels are the file's raw bytes (0–255), in the
 * file's own order (CIFAR-10: channel-planar red, green, blue, each 32×32 row-major;
 * Fashion-MNIST: 28×28 row-major).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { ImageSet } from "./image_set.ts";
 * const images: ImageSet = {
 *   pixels: new Uint8Array([0, 255, 128, 64]),
 *   labels: new Uint8Array([1, 0]),
 *   count: 2,
 *   features: 2,
 *   classNames: ["cat", "dog"],
 * };
 * const second = images.pixels.subarray(1 * images.features, 2 * images.features);
 * assert.equal(second[0], 128);
 * assert.equal(images.classNames[images.labels[1]], "cat");
 * ```
 */
export interface ImageSet {
  readonly pixels: Uint8Array;
  readonly labels: Uint8Array;
  readonly count: number;
  readonly features: number;
  readonly classNames: readonly string[];
}
