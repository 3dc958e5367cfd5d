// A 3×5 pixel font (m is 5 wide) for a chart's axis labels: digits, the duration units and a few signs.

import type { Canvas, Rgb } from './png.js';

const GLYPHS: Record<string, string[]> = {
  '0': ['111', '101', '101', '101', '111'],
  '1': ['010', '110', '010', '010', '111'],
  '2': ['111', '001', '111', '100', '111'],
  '3': ['111', '001', '111', '001', '111'],
  '4': ['101', '101', '111', '001', '001'],
  '5': ['111', '100', '111', '001', '111'],
  '6': ['111', '100', '111', '101', '111'],
  '7': ['111', '001', '010', '010', '010'],
  '8': ['111', '101', '111', '101', '111'],
  '9': ['111', '101', '111', '001', '111'],
  s: ['000', '011', '100', '001', '110'],
  m: ['00000', '11110', '10101', '10101', '10101'],
  h: ['100', '100', '111', '101', '101'],
  d: ['001', '001', '111', '101', '111'],
  '.': ['000', '000', '000', '000', '010'],
  ' ': ['000', '000', '000', '000', '000'],
};

/** Draws `text` with its top-left at (x, y), each font pixel `scale` pixels wide. */
export function drawText(
  canvas: Canvas,
  text: string,
  x: number,
  y: number,
  colour: Rgb,
  scale = 2,
): void {
  let cursor = x;
  for (const char of text) {
    const glyph = GLYPHS[char];
    if (glyph)
      glyph.forEach((row, dy) =>
        [...row].forEach((bit, dx) => {
          if (bit === '1') canvas.rect(cursor + dx * scale, y + dy * scale, scale, scale, colour);
        }),
      );
    cursor += ((glyph?.[0]?.length ?? 3) + 1) * scale;
  }
}

export function textWidth(text: string, scale = 2): number {
  let width = 0;
  for (const char of text) width += ((GLYPHS[char]?.[0]?.length ?? 3) + 1) * scale;
  return width - scale;
}
