// A grid of values as a picture under plotly's axes. Swapping one image is far cheaper for plotly
// than re-drawing a heatmap or contour trace, so the decision boundary (backprop view) and the
// landscapes (descent and race views) are painted here, pixel by pixel, from the server's grid.

const canvas = document.createElement("canvas");

// Samples the grid z (z[i][j] is the value at the i-th y, counted upwards, and the j-th x) on a
// square of pixels × pixels, smoothed bilinearly; returns the values row by row from the top,
// value (u, v) at index v · pixels + u. Pixel (u, v) stands at the grid point
//   gx = u / (pixels − 1) · (nx − 1),   gy = (pixels − 1 − v) / (pixels − 1) · (ny − 1)
// (the corners of the picture are the corners of the grid), in the cell j = ⌊gx⌋, i = ⌊gy⌋ (the
// last cell at the far edges), at tx = gx − j, ty = gy − i from its lower-left corner:
//   f = (z[i][j] · (1 − tx) + z[i][j+1] · tx) · (1 − ty) + (z[i+1][j] · (1 − tx) + z[i+1][j+1] · tx) · ty
// A corner without a value (null) counts as `fill`; with no fill, the pixel is NaN (no value).
// `into` is the array type of the answer (Float32Array halves the memory; Float64Array keeps f).
export function bilinear(z, pixels, { fill = null, into = Float64Array } = {}) {
  const ny = z.length, nx = z[0].length;
  const values = new into(pixels * pixels);
  for (let v = 0; v < pixels; v++) {
    const gy = ((pixels - 1 - v) / (pixels - 1)) * (ny - 1);
    const i = Math.min(ny - 2, Math.floor(gy)), ty = gy - i;
    for (let u = 0; u < pixels; u++) {
      const gx = (u / (pixels - 1)) * (nx - 1);
      const j = Math.min(nx - 2, Math.floor(gx)), tx = gx - j;
      const a = z[i][j] ?? fill, b = z[i][j + 1] ?? fill, c = z[i + 1][j] ?? fill, d = z[i + 1][j + 1] ?? fill;
      values[v * pixels + u] = a === null || b === null || c === null || d === null
        ? NaN
        : (a * (1 - tx) + b * tx) * (1 - ty) + (c * (1 - tx) + d * tx) * ty;
    }
  }
  return values;
}

// The grid as a PNG data URL of pixels × pixels: the bilinear values above, coloured by
// colour(values, at, u, v) for the pixel at index at = v · pixels + u (u to the right, v down; the
// neighbours are at ± 1 and ± pixels), which answers [r, g, b], or null for a transparent pixel.
export function rasterise(z, pixels, colour, options) {
  const values = bilinear(z, pixels, options);
  canvas.width = pixels;
  canvas.height = pixels;
  const context = canvas.getContext("2d");
  const image = context.createImageData(pixels, pixels);
  for (let v = 0; v < pixels; v++) {
    for (let u = 0; u < pixels; u++) {
      const at = v * pixels + u;
      const rgb = colour(values, at, u, v);
      if (rgb === null) continue; // createImageData starts transparent black
      image.data.set(rgb, 4 * at);
      image.data[4 * at + 3] = 255;
    }
  }
  context.putImageData(image, 0, 0);
  return canvas.toDataURL("image/png");
}

// plotly's layout image stretching a picture of the grid over its axes x and y (grid coordinates).
export function layoutImage(source, x, y) {
  return {
    source, xref: "x", yref: "y", x: x[0], y: y[y.length - 1],
    sizex: x[x.length - 1] - x[0], sizey: y[y.length - 1] - y[0], sizing: "stretch", layer: "below",
    xanchor: "left", yanchor: "top",
  };
}
