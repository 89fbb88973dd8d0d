/**
 * @file Line charts for the demos, drawn twice from one layout: as SVG text and as a PNG
 * (rasterised by `_raster.ts`, its text in the bitmap font of `_bitmap_font.ts`, DejaVu
 * Sans as the SVG asks). A figure is a grid of panels whose shape follows their number
 * (1, 2, 3 in a row; 4 as 2 × 2; more in rows of 3 or 4, the last row centred); each
 * panel has a log-scale y axis labelled in powers of ten (10⁻²), series of (x, y) points
 * drawn as lines with a marker at every point (so a run with one evaluation still
 * shows), and a title. A panel may carry a warning (a run that diverged): it is written
 * in red under the title and marked on the x axis; only finite, positive values are
 * drawn, and a panel with none says so instead of showing empty axes.
 *
 * Layout (ticks, scales, positions) is computed once as drawing primitives; the two
 * writers only translate primitives, so the pictures agree, glyph for glyph.
 */
import { loadFont } from "./_bitmap_font.ts";
import { Raster } from "./_raster.ts";

/** A line of the chart. */
export interface Series {
  /** Its name in the legend. */
  readonly label: string;
  /** x of each point. */
  readonly x: readonly number[];
  /** y of each point; those not finite and positive are not drawn. */
  readonly y: readonly number[];
  /** CSS colour `#rrggbb`. */
  readonly color: string;
  /** Drawn dashed. */
  readonly dashed?: boolean;
}

/** Something wrong with a panel's data, said in red in the panel. */
export interface Warning {
  /** One short line: `diverged at epoch 10 (NaN loss)`. */
  readonly text: string;
  /** An x where it happened, marked with a red line across the plot. */
  readonly x?: number;
}

/** One chart of the figure. */
export interface Panel {
  /** Title lines. */
  readonly title: readonly string[];
  /** Label under the x axis. */
  readonly xLabel: string;
  /** Label over the y axis. */
  readonly yLabel: string;
  /** The lines. */
  readonly series: readonly Series[];
  /** A warning to show, if any. */
  readonly warning?: Warning;
}

/** A drawing primitive, in pixels; text is placed by its baseline. */
export type Primitive =
  | { kind: "line"; points: [number, number][]; color: string; width: number; dashed?: boolean }
  | { kind: "marker"; x: number; y: number; r: number; color: string }
  | {
    kind: "text";
    x: number;
    y: number;
    text: string;
    size: "small" | "large";
    anchor: "start" | "middle" | "end";
    color: string;
  };

const PANEL_W = 460, PANEL_H = 330;
const MARGIN = { left: 70, right: 20, top: 60, bottom: 46 };
/** Extra height above each plot when some panel has a warning line. */
const WARNING_LINE = 22;
const GRID = "#dddddd", FRAME = "#333333", TEXT = "#000000", WARNING = "#c00000";
const FONT_PX = { small: 11, large: 14 } as const;
/** A character of the small font at its widest but for a few (DejaVu Sans 11 px: ~6.3 on average). */
const SMALL_CHAR_PX = 7;
/** Space between two legend entries. */
const LEGEND_GAP = 14;

/**
 * Columns of the grid for `n` panels: all in one row up to 3, 2 × 2 for 4, rows of 3 up
 * to 9, rows of 4 beyond.
 */
export function gridColumns(n: number): number {
  if (n <= 3) return Math.max(1, n);
  if (n === 4) return 2;
  return n <= 9 ? 3 : 4;
}

/** Ticks at 1, 2 or 5 × 10ᵏ within [min, max]; whole numbers only if `integer`. */
function linearTicks(min: number, max: number, integer: boolean): number[] {
  const span = max - min || 1;
  const base = 10 ** Math.floor(Math.log10(span / 5));
  let step = ([1, 2, 5, 10].find((f) => span / (f * base) <= 6) ?? 10) * base;
  if (integer) step = Math.max(1, Math.round(step));
  const ticks = [];
  for (let v = Math.ceil(min / step) * step; v <= max + 1e-9 * span; v += step) {
    ticks.push(Number(v.toPrecision(12)));
  }
  return ticks;
}

const SUPERSCRIPT: Record<string, string> = {
  "-": "⁻",
  "0": "⁰",
  "1": "¹",
  "2": "²",
  "3": "³",
  "4": "⁴",
  "5": "⁵",
  "6": "⁶",
  "7": "⁷",
  "8": "⁸",
  "9": "⁹",
};

/** `10⁻²` for −2. */
export function powerOfTen(exponent: number): string {
  return `10${[...String(exponent)].map((c) => SUPERSCRIPT[c]).join("")}`;
}

const drawable = (y: number) => y > 0 && Number.isFinite(y);

function layoutPanel(panel: Panel, ox: number, oy: number, warningSpace: number): Primitive[] {
  const out: Primitive[] = [];
  const text = (
    x: number,
    y: number,
    line: string,
    size: "small" | "large",
    anchor: "start" | "middle" | "end",
    color = TEXT,
  ) => out.push({ kind: "text", x, y, text: line, size, anchor, color });
  const top = oy + MARGIN.top + warningSpace, left = ox + MARGIN.left;
  const right = ox + PANEL_W - MARGIN.right, bottom = oy + PANEL_H + warningSpace - MARGIN.bottom;

  // The title first: each panel's primitives start with it.
  panel.title.forEach((line, i) =>
    text(ox + PANEL_W / 2, oy + 18 + 17 * i, line, "large", "middle")
  );
  if (panel.warning) {
    text(
      ox + PANEL_W / 2,
      oy + 18 + 17 * panel.title.length,
      panel.warning.text,
      "large",
      "middle",
      WARNING,
    );
  }

  // x: every point's x (finite y or not) and the warning's, padded when there is one x.
  const xs = [...panel.series.flatMap((s) => s.x), panel.warning?.x ?? NaN].filter(Number.isFinite);
  let [x0, x1] = xs.length > 0 ? [Math.min(...xs), Math.max(...xs)] : [0, 1];
  if (x0 === x1) [x0, x1] = [x0 - 1, x1 + 1];
  const px = (x: number) => left + (x - x0) / (x1 - x0) * (right - left);
  for (const t of xs.length > 0 ? linearTicks(x0, x1, xs.every(Number.isInteger)) : []) {
    out.push({ kind: "line", points: [[px(t), top], [px(t), bottom]], color: GRID, width: 1 });
    text(px(t), bottom + 16, String(t), "small", "middle");
  }

  // y: decades around the finite, positive values.
  const ys = panel.series.flatMap((s) => s.y).filter(drawable);
  if (ys.length > 0) {
    const lo = Math.floor(Math.log10(Math.min(...ys)));
    const hi = Math.max(lo + 1, Math.ceil(Math.log10(Math.max(...ys))));
    const py = (y: number) => bottom - (Math.log10(y) - lo) / (hi - lo) * (bottom - top);
    const step = Math.max(1, Math.ceil((hi - lo) / 8));
    for (let e = lo; e <= hi; e += step) {
      out.push({
        kind: "line",
        points: [[left, py(10 ** e)], [right, py(10 ** e)]],
        color: GRID,
        width: 1,
      });
      text(left - 6, py(10 ** e) + 4, powerOfTen(e), "small", "end");
    }
    for (const s of panel.series) {
      const points = s.x.flatMap((x, i) =>
        drawable(s.y[i]) ? [[px(x), py(s.y[i])] as [number, number]] : []
      );
      out.push({ kind: "line", points, color: s.color, width: 2, dashed: s.dashed });
      for (const [x, y] of points) out.push({ kind: "marker", x, y, r: 2.5, color: s.color });
    }
  } else {
    text(
      (left + right) / 2,
      (top + bottom) / 2,
      "no finite, positive value to draw",
      "large",
      "middle",
      WARNING,
    );
  }
  out.push({
    kind: "line",
    points: [[left, top], [left, bottom], [right, bottom], [right, top], [left, top]],
    color: FRAME,
    width: 1,
  });
  if (panel.warning?.x !== undefined) {
    const x = px(panel.warning.x);
    out.push({
      kind: "line",
      points: [[x, top], [x, bottom]],
      color: WARNING,
      width: 1,
      dashed: true,
    });
  }

  // The legend sits above the plot's right corner, clear of every curve and below a
  // two-line title; each entry is as wide as its label, the last one ending at the frame.
  const entryWidth = (s: Series) => 27 + SMALL_CHAR_PX * [...s.label].length;
  const starts = panel.series.map((_, i) =>
    right - panel.series.slice(i).reduce((w, s) => w + entryWidth(s), 0) -
    LEGEND_GAP * (panel.series.length - 1 - i)
  );
  panel.series.forEach((s, i) => {
    const lx = starts[i], ly = top - 8;
    out.push({
      kind: "line",
      points: [[lx, ly - 4], [lx + 22, ly - 4]],
      color: s.color,
      width: 2,
      dashed: s.dashed,
    });
    out.push({ kind: "marker", x: lx + 11, y: ly - 4, r: 2.5, color: s.color });
    text(lx + 27, ly, s.label, "small", "start");
  });
  text((left + right) / 2, bottom + 34, panel.xLabel, "small", "middle");
  text(ox + 8, top - 8, panel.yLabel, "small", "start");
  return out;
}

/**
 * Lays out panels in a grid of {@linkcode gridColumns} columns, the last row centred.
 *
 * @returns The figure's size and its primitives.
 */
export function layoutFigure(
  panels: readonly Panel[],
): { width: number; height: number; primitives: Primitive[] } {
  if (panels.length === 0) throw new RangeError("layoutFigure: expected at least one panel, got 0");
  const columns = gridColumns(panels.length);
  const rows = Math.ceil(panels.length / columns);
  const warningSpace = panels.some((p) => p.warning) ? WARNING_LINE : 0;
  const panelHeight = PANEL_H + warningSpace;
  const primitives = panels.flatMap((p, i) => {
    const row = Math.floor(i / columns);
    const inRow = Math.min(columns, panels.length - row * columns);
    const x = (i % columns + (columns - inRow) / 2) * PANEL_W;
    return layoutPanel(p, x, row * panelHeight, warningSpace);
  });
  return { width: columns * PANEL_W, height: rows * panelHeight, primitives };
}

const escape = (text: string) =>
  text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** The figure as an SVG document. */
export function renderSvg(panels: readonly Panel[]): string {
  const { width, height, primitives } = layoutFigure(panels);
  const body = primitives.map((p) => {
    if (p.kind === "line") {
      const points = p.points.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join(" ");
      const dash = p.dashed ? ` stroke-dasharray="6 4"` : "";
      return `<polyline points="${points}" fill="none" stroke="${p.color}" stroke-width="${p.width}"${dash}/>`;
    }
    if (p.kind === "marker") {
      return `<circle cx="${p.x.toFixed(1)}" cy="${p.y.toFixed(1)}" r="${p.r}" fill="${p.color}"/>`;
    }
    const fill = p.color === TEXT ? "" : ` fill="${p.color}"`;
    return `<text x="${p.x.toFixed(1)}" y="${p.y.toFixed(1)}" font-size="${
      FONT_PX[p.size]
    }" text-anchor="${p.anchor}"${fill}>${escape(p.text)}</text>`;
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="DejaVu Sans, Arial, sans-serif">
<rect width="100%" height="100%" fill="white"/>
${body.join("\n")}
</svg>
`;
}

/**
 * The figure as PNG bytes.
 *
 * @throws {RangeError} When a text has a character the bitmap font lacks.
 */
export async function renderPng(panels: readonly Panel[]): Promise<Uint8Array> {
  const { width, height, primitives } = layoutFigure(panels);
  const fonts = { small: await loadFont(FONT_PX.small), large: await loadFont(FONT_PX.large) };
  const raster = new Raster(width, height);
  for (const p of primitives) {
    if (p.kind === "line") {
      // Hairlines on pixel centres, so that grid and frame are crisp rather than 2 px grey.
      const points = p.width === 1
        ? p.points.map(([x, y]) => [Math.floor(x) + 0.5, Math.floor(y) + 0.5] as [number, number])
        : p.points;
      raster.polyline(points, p.color, p.width, p.dashed ? [6, 4] : undefined);
    } else if (p.kind === "marker") raster.circle(p.x, p.y, p.r, p.color);
    else raster.text(p.x, p.y, p.text, fonts[p.size], p.color, p.anchor);
  }
  return await raster.png();
}
