// Symmetry (pure): the hidden layers whose units all have identical incoming weights. Such units compute
// the same function, get the same δ and the same update, so they stay identical for ever — which is why
// weights start random (docs/maths.md: `zeros` and `constant` initializations exist to show it).

/**
 * Whether two rows of a flat row-major matrix are equal to a relative tolerance.
 * @param {ArrayLike<number>} d
 * @param {number} cols
 * @param {number} a row
 * @param {number} b row
 * @param {number} tol
 */
function sameRows(d, cols, a, b, tol) {
  for (let j = 0; j < cols; j++) {
    const x = d[a * cols + j];
    const y = d[b * cols + j];
    if (Math.abs(x - y) > tol * (1 + Math.abs(x))) return false;
  }
  return true;
}

/**
 * The hidden layers l (2 ≤ l ≤ L − 1) with at least two units whose rows of Θ^(l−1) are all the same.
 * @param {{data: ArrayLike<number>, shape: number[]}[] | null} mats Θ^(1..L−1), row-major
 * @param {number} [tol=1e-9]
 * @returns {number[]}
 */
export function symmetricLayers(mats, tol = 1e-9) {
  const out = [];
  if (!mats) return out;
  for (let i = 0; i < mats.length - 1; i++) {
    const { data, shape } = mats[i];
    const [rows, cols] = shape;
    if (rows < 2) continue;
    let same = true;
    for (let k = 1; k < rows && same; k++) same = sameRows(data, cols, 0, k, tol);
    if (same) out.push(i + 2);
  }
  return out;
}
