/**
 * @file Line charts for the demos, drawn twice from one layout: as SVG text and as a PNG
 * (rasterised here, with jimp's bitmap font for the labels). A figure is a grid of
 * panels; each panel has a log-scale y axis, series of (x, y) points, and a title.
 * Layout (ticks, scales, positions) is computed once as drawing primitives; the two
 * writers only translate primitives, so the pictures agree.
 */
import { Jimp, loadFont, rgbaToInt } from "jimp";
import { SANS_10_BLACK, SANS_16_BLACK } from "jimp/fonts";

/** A line of the chart. */
export interface Series {
  readonly label: string;
  readonly x: readonly number[];
  readonly y: readonly number[];
  /** CSS colour `#rrggbb`. */
  readonly color: string;
  readonly dashed?: boolean;
}

/** One chart of the figure. */
export interface Panel {
  /** Title lines. */
  readonly title: readonly string[];
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly Series[];
}

type Primitive =
  | { kind: "line"; points: [number, number][]; color: string; width: number; dashed?: boolean }
  | {
    kind: "text";
    x: number;
    y: number;
    text: string;
    size: "small" | "large";
    anchor: "start" | "middle" | "end";
  };

const PANEL_W = 460, PANEL_H = 330;
const MARGIN = { left: 70, right: 20, top: 52, bottom: 46 };

function niceLinearTicks(min: number, max: number): number[] {
  const span = max - min || 1;
  const step = 10 ** Math.floor(Math.log10(span / 5));
  const factor = [1, 2, 5, 10].find((f) => span / (f * step) <= 6) ?? 10;
  const s = factor * step;
  const ticks = [];
  for (let v = Math.ceil(min / s) * s; v <= max + 1e-9; v += s) {
    ticks.push(Number(v.toPrecision(12)));
  }
  return ticks;
}

function formatPower(exponent: number): string {
  return `1e${exponent}`;
}

function layoutPanel(panel: Panel, ox: number, oy: number): Primitive[] {
  const out: Primitive[] = [];
  const xs = panel.series.flatMap((s) => s.x);
  const ys = panel.series.flatMap((s) => s.y).filter((v) => v > 0 && Number.isFinite(v));
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  const lo = Math.floor(Math.log10(Math.min(...ys)));
  const hi = Math.max(lo + 1, Math.ceil(Math.log10(Math.max(...ys))));
  const plotW = PANEL_W - MARGIN.left - MARGIN.right, plotH = PANEL_H - MARGIN.top - MARGIN.bottom;
  const px = (x: number) => ox + MARGIN.left + (x1 === x0 ? 0.5 : (x - x0) / (x1 - x0)) * plotW;
  const py = (y: number) => oy + MARGIN.top + (1 - (Math.log10(y) - lo) / (hi - lo)) * plotH;
  const left = ox + MARGIN.left, top = oy + MARGIN.top, right = left + plotW, bottom = top + plotH;
  const step = Math.max(1, Math.ceil((hi - lo) / 8));
  for (let e = lo; e <= hi; e += step) {
    out.push({
      kind: "line",
      points: [[left, py(10 ** e)], [right, py(10 ** e)]],
      color: "#dddddd",
      width: 1,
    });
    out.push({
      kind: "text",
      x: left - 6,
      y: py(10 ** e) + 4,
      text: formatPower(e),
      size: "small",
      anchor: "end",
    });
  }
  for (const t of niceLinearTicks(x0, x1)) {
    out.push({ kind: "line", points: [[px(t), top], [px(t), bottom]], color: "#dddddd", width: 1 });
    out.push({
      kind: "text",
      x: px(t),
      y: bottom + 16,
      text: String(t),
      size: "small",
      anchor: "middle",
    });
  }
  out.push({
    kind: "line",
    points: [[left, top], [left, bottom], [right, bottom], [right, top], [left, top]],
    color: "#333333",
    width: 1,
  });
  for (const s of panel.series) {
    const points = s.x.map((x, i) => [x, s.y[i]] as const).filter(([, y]) =>
      y > 0 && Number.isFinite(y)
    );
    out.push({
      kind: "line",
      points: points.map(([x, y]) => [px(x), py(y)]),
      color: s.color,
      width: 2,
      dashed: s.dashed,
    });
  }
  // The legend sits above the plot's right corner, clear of every curve.
  panel.series.forEach((s, i) => {
    const lx = right - 70 * (panel.series.length - i), ly = top - 8;
    out.push({
      kind: "line",
      points: [[lx, ly - 4], [lx + 22, ly - 4]],
      color: s.color,
      width: 2,
      dashed: s.dashed,
    });
    out.push({ kind: "text", x: lx + 27, y: ly, text: s.label, size: "small", anchor: "start" });
  });
  panel.title.forEach((line, i) =>
    out.push({
      kind: "text",
      x: ox + PANEL_W / 2,
      y: oy + 18 + 17 * i,
      text: line,
      size: "large",
      anchor: "middle",
    })
  );
  out.push({
    kind: "text",
    x: (left + right) / 2,
    y: bottom + 34,
    text: panel.xLabel,
    size: "small",
    anchor: "middle",
  });
  out.push({
    kind: "text",
    x: ox + 8,
    y: top - 8,
    text: panel.yLabel,
    size: "small",
    anchor: "start",
  });
  return out;
}

/** Lays out panels in a grid of `columns`: the figure's size and primitives. */
function layoutFigure(panels: readonly Panel[], columns: number) {
  const rows = Math.ceil(panels.length / columns);
  const primitives = panels.flatMap((p, i) =>
    layoutPanel(p, (i % columns) * PANEL_W, Math.floor(i / columns) * PANEL_H)
  );
  return { width: columns * PANEL_W, height: rows * PANEL_H, primitives };
}

const escape = (text: string) =>
  text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** The figure as an SVG document. */
export function renderSvg(panels: readonly Panel[], columns = 2): string {
  const { width, height, primitives } = layoutFigure(panels, columns);
  const body = primitives.map((p) => {
    if (p.kind === "line") {
      const points = p.points.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join(" ");
      const dash = p.dashed ? ` stroke-dasharray="6 4"` : "";
      return `<polyline points="${points}" fill="none" stroke="${p.color}" stroke-width="${p.width}"${dash}/>`;
    }
    return `<text x="${p.x.toFixed(1)}" y="${p.y.toFixed(1)}" font-size="${
      p.size === "large" ? 14 : 11
    }" text-anchor="${p.anchor}">${escape(p.text)}</text>`;
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="DejaVu Sans, Arial, sans-serif">
<rect width="100%" height="100%" fill="white"/>
${body.join("\n")}
</svg>
`;
}

/** jimp's bitmap fonts have ASCII only: spell out the Greek and the norm bars. */
function ascii(text: string): string {
  const spelled: Record<string, string> = { "λ": "lambda", "‖": "|", "−": "-", "½": "1/2" };
  return text.replace(/[^\x20-\x7e]/g, (ch) => spelled[ch] ?? "?");
}

function parseColor(hex: string): number {
  const v = parseInt(hex.slice(1), 16);
  return rgbaToInt((v >> 16) & 255, (v >> 8) & 255, v & 255, 255);
}

/** The figure as PNG bytes. */
export async function renderPng(panels: readonly Panel[], columns = 2): Promise<Uint8Array> {
  const { width, height, primitives } = layoutFigure(panels, columns);
  const image = new Jimp({ width, height, color: 0xffffffff });
  // Deno resolves jimp's bundled fonts to file paths, which jimp then fetches: make them URLs.
  const small = await loadFont(new URL(`file://${SANS_10_BLACK}`).href);
  const large = await loadFont(new URL(`file://${SANS_16_BLACK}`).href);
  for (const p of primitives) {
    if (p.kind === "line") {
      const color = parseColor(p.color);
      let travelled = 0;
      for (let i = 1; i < p.points.length; i++) {
        const [[ax, ay], [bx, by]] = [p.points[i - 1], p.points[i]];
        const steps = Math.max(1, Math.ceil(Math.hypot(bx - ax, by - ay)));
        for (let s = 0; s <= steps; s++, travelled++) {
          if (p.dashed && travelled % 10 >= 6) continue;
          const x = Math.round(ax + (bx - ax) * s / steps),
            y = Math.round(ay + (by - ay) * s / steps);
          for (let dx = 0; dx < p.width; dx++) {
            for (let dy = 0; dy < p.width; dy++) {
              if (x + dx >= 0 && x + dx < width && y + dy >= 0 && y + dy < height) {
                image.setPixelColor(color, x + dx, y + dy);
              }
            }
          }
        }
      }
    } else {
      const font = p.size === "large" ? large : small;
      const text = ascii(p.text);
      const textWidth = [...text].reduce((w, ch) => w + (font.chars[ch]?.xadvance ?? 6), 0);
      const x = p.anchor === "start"
        ? p.x
        : p.anchor === "middle"
        ? p.x - textWidth / 2
        : p.x - textWidth;
      image.print({
        font,
        x: Math.round(x),
        y: Math.round(p.y - font.common.lineHeight * 0.75),
        text,
      });
    }
  }
  return new Uint8Array(await image.getBuffer("image/png"));
}
