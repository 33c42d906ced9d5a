import assert from "node:assert/strict";
import { fc } from "../lib/deps.ts";
import { ShapeError } from "../lib/errors.ts";
import {
  addColumn,
  keepWherePositive,
  matmul,
  matmulTransposedLeft,
  matmulTransposedRight,
  multiplyColumn,
  positivePart,
  projectOutRows,
  rowDots,
  rowSumsAndDots,
  subtractColumn,
  sumColumns,
  sumRows,
} from "../lib/primitives.ts";
import { normals, randomKey } from "../lib/random.ts";
import { at, castTensor, type Tensor, tensor } from "../lib/tensor.ts";
import { randomTensor, sameBits } from "./backend_fixture.ts";

function random(rows: number, columns: number, seed: number): Tensor {
  return tensor(rows, columns, normals(randomKey(seed), rows * columns).values);
}

/** The textbook triple loop, entry by entry. */
function naiveProduct(a: Tensor, b: Tensor): Tensor {
  const data = new Float64Array(a.rows * b.columns);
  for (let i = 0; i < a.rows; i++) {
    for (let j = 0; j < b.columns; j++) {
      let sum = 0;
      for (let k = 0; k < a.columns; k++) sum += at(a, i, k) * at(b, k, j);
      data[i * b.columns + j] = sum;
    }
  }
  return tensor(a.rows, b.columns, data);
}

function transpose(a: Tensor): Tensor {
  const data = new Float64Array(a.data.length);
  for (let i = 0; i < a.rows; i++) {
    for (let j = 0; j < a.columns; j++) data[j * a.rows + i] = at(a, i, j);
  }
  return tensor(a.columns, a.rows, data);
}

function assertClose(actual: Tensor, expected: Tensor): void {
  assert.deepEqual([actual.rows, actual.columns], [expected.rows, expected.columns]);
  actual.data.forEach((value, i) => {
    assert.ok(Math.abs(value - expected.data[i]) <= 1e-12 * (1 + Math.abs(expected.data[i])));
  });
}

const shapes = fc.record({
  m: fc.integer({ min: 0, max: 9 }),
  k: fc.integer({ min: 0, max: 9 }),
  n: fc.integer({ min: 0, max: 9 }),
  seed: fc.integer({ min: 0, max: 1000 }),
});

Deno.test("matmul(), matmulTransposedLeft() and matmulTransposedRight() equal the triple loop", () => {
  fc.assert(fc.property(shapes, ({ m, k, n, seed }) => {
    const a = random(m, k, seed), b = random(k, n, seed + 1);
    const expected = naiveProduct(a, b);
    assertClose(matmul(a, b), expected);
    assertClose(matmulTransposedLeft(transpose(a), b), expected);
    assertClose(matmulTransposedRight(a, transpose(b)), expected);
  }));
});

Deno.test("sumRows(), sumColumns() and the column broadcasts reduce and broadcast along the right axis", () => {
  const a = tensor(2, 3, new Float64Array([1, 2, 3, 4, 5, 6]));
  assert.deepEqual([...sumRows(a).data], [6, 15]);
  assert.deepEqual([...sumColumns(a).data], [5, 7, 9]);
  const column = tensor(2, 1, new Float64Array([10, 100]));
  assert.deepEqual([...addColumn(a, column).data], [11, 12, 13, 104, 105, 106]);
  assert.deepEqual([...subtractColumn(a, column).data], [-9, -8, -7, -96, -95, -94]);
  assert.deepEqual([...multiplyColumn(a, column).data], [10, 20, 30, 400, 500, 600]);
});

Deno.test("matmul() names both shapes when they do not fit", () => {
  const k: number = 4;
  assert.throws(
    () => matmul(random(3, k, 1), random(5, 2, 2)),
    (error: unknown) =>
      error instanceof ShapeError && /matmul\(\).*\[4, 2\].*\[5, 2\]/.test(error.message),
  );
});

Deno.test("positivePart() and keepWherePositive() are ReLU's conditionals, bit for bit", () => {
  // Entries drawn from the edge cases and from ordinary values, in both precisions.
  const entry = fc.oneof(
    fc.constantFrom(-Infinity, Infinity, NaN, -0, 0, -Number.MIN_VALUE, Number.MIN_VALUE, -1, 1),
    fc.double(),
  );
  fc.assert(fc.property(
    fc.array(fc.tuple(entry, entry), { minLength: 1, maxLength: 40 }),
    fc.constantFrom("float64" as const, "float32" as const),
    (pairs, dtype) => {
      const a = castTensor(tensor(1, pairs.length, Float64Array.from(pairs, ([x]) => x)), dtype);
      const b = castTensor(tensor(1, pairs.length, Float64Array.from(pairs, ([, y]) => y)), dtype);
      const relu = positivePart(a).data, gated = keepWherePositive(a, b).data;
      a.data.forEach((x, i) => {
        assert.ok(Object.is(relu[i], x <= 0 ? 0 : x), `max(${x}, 0) gave ${relu[i]}`);
        const y = b.data[i];
        assert.ok(Object.is(gated[i], x > 0 ? y : 0), `gate ${x} on ${y} gave ${gated[i]}`);
      });
      assert.equal(relu.constructor, a.data.constructor);
    },
  ));
});

Deno.test("rowSumsAndDots() and projectOutRows() with a scale column have the bits of the passes they fuse", () => {
  fc.assert(fc.property(
    fc.integer({ min: 1, max: 12 }),
    fc.integer({ min: 1, max: 40 }),
    fc.integer({ min: 0, max: 10_000 }),
    fc.constantFrom("float64" as const, "float32" as const),
    fc.boolean(),
    (rows, columns, seed, dtype, scaled) => {
      const g = randomTensor(rows, columns, seed, dtype),
        x = randomTensor(rows, columns, seed + 1, dtype);
      const [gamma, a, b, c] = [2, 3, 4, 5].map((offset) =>
        randomTensor(rows, 1, seed + offset, dtype)
      );
      const gHat = scaled ? multiplyColumn(g, gamma) : g;
      const sums = rowSumsAndDots(g, x, scaled ? gamma : undefined);
      assert.ok(sameBits(sums.sum.data, sumRows(g).data), "Σ G");
      assert.ok(sameBits(sums.dot.data, rowDots(g, x).data), "Σ G·X");
      assert.ok(sameBits(sums.scaledSum.data, sumRows(gHat).data), "Σ Ĝ");
      assert.ok(sameBits(sums.scaledDot.data, rowDots(gHat, x).data), "Σ Ĝ·X");
      assert.equal(sums.sum.data.constructor, g.data.constructor);
      const fused = projectOutRows(g, x, a, b, c, scaled ? gamma : undefined);
      assert.ok(sameBits(fused.data, projectOutRows(gHat, x, a, b, c).data), "the input gradient");
    },
  ));
});
