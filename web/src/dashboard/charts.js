// The charts, with ECharts tree-shaken to what they use (line and bar charts, grid, tooltip,
// legend, target lines; the canvas renderer): a trend per indicator across the kept releases,
// and the conflict areas per county.
import { BarChart, LineChart } from "echarts/charts";
import { GridComponent, LegendComponent, MarkLineComponent, TooltipComponent } from "echarts/components";
import * as echarts from "echarts/core";
import { CanvasRenderer } from "echarts/renderers";
import { pick, t } from "../i18n.js";
import { el } from "./cards.js";
import { STATUS_COLOURS, formatNumber } from "./model.js";

echarts.use([LineChart, BarChart, GridComponent, LegendComponent, MarkLineComponent, TooltipComponent, CanvasRenderer]);

const charts = [];
const KIND_COLOURS = ["#c62828", "#ef6c00", "#6a1b9a", "#1565c0", "#00838f", "#558b2f"];

function chart(container) {
  const instance = echarts.init(container, null, { renderer: "canvas" });
  charts.push(instance);
  return instance;
}

export function disposeCharts() {
  while (charts.length) charts.pop().dispose();
}

export function resizeCharts() {
  for (const c of charts) c.resize();
}

function releaseLabel(point) {
  return (point.time || point.release).slice(0, 10);
}

/** One line chart per indicator: its value for `scope` in each kept release, oldest first,
 * with the chosen year's target as a dashed line. */
export function renderTrends(container, data, scope, year) {
  container.replaceChildren();
  const key = `${scope.scope}:${scope.code}`;
  for (const indicator of data.indicators) {
    const box = el("figure", "trend");
    box.dataset.indicator = indicator.id;
    box.append(el("figcaption", "", `${pick(indicator.name)} (${indicator.unit || ""})`));
    const area = el("div", "chart trend-chart");
    box.append(area);
    container.append(box);
    const points = data.trend.map((p) => ({ ...p, value: p.values?.[indicator.id]?.[key] ?? null }));
    const target = data.target(data.result(indicator.id, scope), year);
    const marks = target && typeof target.target === "number"
      ? [{ yAxis: target.target, name: `${t("target")} ${year}` }]
      : target && Array.isArray(target.target)
        ? target.target.map((v) => ({ yAxis: v, name: `${t("target")} ${year}` }))
        : [];
    const status = data.status(data.result(indicator.id, scope), year);
    chart(area).setOption({
      animation: false,
      grid: { left: 8, right: 16, top: 16, bottom: 8, containLabel: true },
      tooltip: {
        trigger: "axis",
        valueFormatter: (v) => `${formatNumber(v)} ${indicator.unit || ""}`,
      },
      xAxis: { type: "category", data: points.map(releaseLabel), axisLabel: { fontSize: 10 } },
      yAxis: { type: "value", scale: true, axisLabel: { fontSize: 10, formatter: (v) => formatNumber(v, 1) } },
      series: [
        {
          type: "line",
          name: pick(indicator.name),
          data: points.map((p) => p.value),
          symbolSize: 8,
          lineStyle: { width: 3, color: STATUS_COLOURS[status] },
          itemStyle: { color: STATUS_COLOURS[status] },
          markLine: marks.length
            ? { symbol: "none", silent: true, label: { formatter: "{b}", position: "insideEndTop", fontSize: 10 }, lineStyle: { type: "dashed", color: "#555" }, data: marks }
            : undefined,
        },
      ],
    });
  }
}

/** The conflict areas (hectares) per county, one bar per kind. */
export function renderConflictChart(container, conflicts) {
  if (!conflicts || !conflicts.kinds?.length) {
    container.hidden = true;
    return;
  }
  container.hidden = false;
  const counties = [];
  for (const area of conflicts.areas) {
    if (area.scope === "county" && !counties.some((c) => c.code === area.code)) counties.push(area);
  }
  const value = (kind, code) => conflicts.areas.find((a) => a.kind === kind && a.scope === "county" && a.code === code)?.area_ha ?? 0;
  chart(container).setOption({
    animation: false,
    color: KIND_COLOURS,
    legend: { top: 0, type: "scroll", textStyle: { fontSize: 11 } },
    grid: { left: 8, right: 16, top: 40, bottom: 8, containLabel: true },
    tooltip: { trigger: "axis", valueFormatter: (v) => `${formatNumber(v)} ${t("areaHa")}` },
    xAxis: { type: "category", data: counties.map((c) => c.name || c.code), axisLabel: { fontSize: 11 } },
    yAxis: { type: "value", axisLabel: { fontSize: 10 } },
    series: conflicts.kinds.map((kind) => ({
      type: "bar",
      name: pick(kind.name),
      data: counties.map((c) => value(kind.id, c.code)),
    })),
  });
}
