// Small SVG charts drawn in the browser: lines over time and horizontal bars. No library, no build step.
// Every label is set with textContent, never parsed as HTML.
(() => {
"use strict";

const SVG_NS = "http://www.w3.org/2000/svg";
const PALETTE = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#4b5563"];

function svgEl(tag, attrs) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, String(value));
  return node;
}

function svgText(x, y, text, attrs) {
  const node = svgEl("text", Object.assign({x, y, "font-size": 11, fill: "#374151"}, attrs || {}));
  node.textContent = text;
  return node;
}

// series: [{name, points: [{t: "label", y: number}]}]; every series shares the x labels of the first.
function lineChart(title, series, format) {
  const width = 760, height = 240, left = 70, right = 150, top = 16, bottom = 36;
  const labels = [...new Set(series.flatMap((s) => s.points.map((p) => p.t)))].sort();
  const max = Math.max(1e-12, ...series.flatMap((s) => s.points.map((p) => p.y)));
  const svg = svgEl("svg", {viewBox: `0 0 ${width} ${height}`, role: "img", class: "chart line-chart"});
  svg.setAttribute("aria-label", title);
  const x = (i) => left + (labels.length < 2 ? (width - left - right) / 2 : (i * (width - left - right)) / (labels.length - 1));
  const y = (v) => top + (height - top - bottom) * (1 - v / max);
  for (const fraction of [0, 0.5, 1]) {
    svg.appendChild(svgEl("line", {x1: left, x2: width - right, y1: y(max * fraction), y2: y(max * fraction), stroke: "#e5e7eb"}));
    svg.appendChild(svgText(left - 6, y(max * fraction) + 4, format(max * fraction), {"text-anchor": "end"}));
  }
  const step = Math.max(1, Math.ceil(labels.length / 6));
  labels.forEach((label, i) => {
    if (i % step === 0 || i === labels.length - 1) svg.appendChild(svgText(x(i), height - 14, label.slice(5).replace("T", " "), {"text-anchor": "middle"}));
  });
  series.forEach((s, k) => {
    const color = PALETTE[k % PALETTE.length];
    const index = new Map(s.points.map((p) => [p.t, p.y]));
    const coords = labels.map((label, i) => `${x(i).toFixed(1)},${y(index.get(label) || 0).toFixed(1)}`);
    if (coords.length === 1) {
      const [cx, cy] = coords[0].split(",");
      svg.appendChild(svgEl("circle", {cx, cy, r: 4, fill: color, class: "series", "data-series": s.name}));
    } else {
      svg.appendChild(svgEl("polyline", {points: coords.join(" "), fill: "none", stroke: color, "stroke-width": 2,
                                         class: "series", "data-series": s.name}));
    }
    svg.appendChild(svgEl("rect", {x: width - right + 12, y: top + k * 18, width: 10, height: 10, fill: color}));
    svg.appendChild(svgText(width - right + 28, top + k * 18 + 9, s.name.length > 18 ? s.name.slice(0, 17) + "…" : s.name));
  });
  return figure(title, svg);
}

// rows: [{label, value}] drawn as horizontal bars, longest first as given.
function barChart(title, rows, format) {
  const width = 760, rowHeight = 22, left = 190, right = 110;
  const height = Math.max(1, rows.length) * rowHeight + 10;
  const max = Math.max(1e-12, ...rows.map((r) => r.value));
  const svg = svgEl("svg", {viewBox: `0 0 ${width} ${height}`, role: "img", class: "chart bar-chart"});
  svg.setAttribute("aria-label", title);
  rows.forEach((row, i) => {
    const y = 5 + i * rowHeight;
    const label = row.label.length > 28 ? row.label.slice(0, 27) + "…" : row.label;
    svg.appendChild(svgText(left - 8, y + 14, label, {"text-anchor": "end"}));
    const w = Math.max(1, ((width - left - right) * row.value) / max);
    svg.appendChild(svgEl("rect", {x: left, y: y + 3, width: w.toFixed(1), height: rowHeight - 6,
                                   fill: PALETTE[i % PALETTE.length], class: "bar", "data-label": row.label}));
    svg.appendChild(svgText(left + w + 6, y + 14, format(row.value)));
  });
  return figure(title, svg);
}

function figure(title, svg) {
  const node = document.createElement("figure");
  const caption = document.createElement("figcaption");
  caption.textContent = title;
  node.append(caption, svg);
  return node;
}

window.interlockCharts = {lineChart, barChart};
})();
