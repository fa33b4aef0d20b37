// The monitoring dashboard (/dashboard, /internal/dashboard): the current release's indicators
// from /indicators/{audience}.json — cards, the county table, trends across the kept releases,
// the conflict areas, a county map — with a target-year switch, zh/en, CSV/XLSX downloads and
// a printable A4 page. Everything comes from this server.
import "maplibre-gl/dist/maplibre-gl.css";
import "./dashboard.css";
import { audience, authHeaders, getJSON } from "../api.js";
import { addStrings, lang, pick, setLang, t } from "../i18n.js";
import { login } from "../login.js";
import { renderCards } from "./cards.js";
import { disposeCharts, renderConflictChart, renderTrends, resizeCharts } from "./charts.js";
import { CountyMap } from "./countymap.js";
import { Monitoring } from "./model.js";
import { DASHBOARD_STRINGS } from "./strings.js";
import { renderConflictTable, renderCountyTable, renderStatusLegend } from "./tables.js";

addStrings(DASHBOARD_STRINGS);
const $ = (selector) => document.querySelector(selector);
const DATA = `/indicators/${audience}`;

function options(select, items, chosen) {
  select.replaceChildren(
    ...items.map(([value, text]) => {
      const option = document.createElement("option");
      option.value = String(value);
      option.textContent = text;
      option.selected = String(value) === String(chosen);
      return option;
    }),
  );
}

/** Download links: plain links for the public; for staff a fetch with the token, saved as a blob. */
function downloads(year) {
  for (const fmt of ["csv", "xlsx"]) {
    const link = $(`#${fmt}`);
    link.href = `${DATA}.${fmt}${year ? `?year=${year}` : ""}`;
    link.onclick = audience === "internal" ? (event) => saveWithToken(event, link, fmt) : null;
  }
}

async function saveWithToken(event, link, fmt) {
  event.preventDefault();
  const url = new URL(link.getAttribute("href"), location.href).href;
  const response = await fetch(url, { headers: authHeaders(url) });
  if (!response.ok) return;
  const blob = URL.createObjectURL(await response.blob());
  const a = document.createElement("a");
  a.href = blob;
  a.download = `indicators-${audience}.${fmt}`;
  a.click();
  setTimeout(() => URL.revokeObjectURL(blob), 1000);
}

async function start() {
  const params = new URLSearchParams(location.search);
  setLang(params.get("lang") || "zh");
  document.body.classList.add(`audience-${audience}`);
  const doc = audience === "internal" ? await login(() => getJSON(`${DATA}.json`)) : await getJSON(`${DATA}.json`);
  const data = new Monitoring(doc);
  const titleKey = audience === "internal" ? "dashTitleInternal" : "dashTitle";
  $("#title").dataset.i18n = titleKey;
  $("#map-link").href = audience === "internal" ? "/internal/" : "/";
  const state = { year: Number(params.get("year")) || data.defaultYear(), trendScope: "city:" + (data.city?.code ?? "") };
  if (!data.years.includes(state.year)) state.year = data.defaultYear();
  const countyMap = new CountyMap($("#county-map"), $("#map-legend"), data);

  const render = () => {
    setLang(lang());
    document.title = t(titleKey);
    $("#lang").textContent = lang() === "zh" ? "EN" : "中文";
    $("#release").textContent = `${t("release")} ${data.release} · ${t("dataYear")} ${data.doc.year ?? "—"}`;
    options($("#year"), data.years.map((y) => [y, String(y)]), state.year);
    const scopes = [data.city, ...data.counties].filter(Boolean);
    options($("#trend-scope"), scopes.map((s) => [`${s.scope}:${s.code}`, s.name]), state.trendScope);
    options($("#map-indicator"), data.indicators.map((i) => [i.id, pick(i.name)]), countyMap.indicator);
    options($("#map-mode"), [["value", t("byValue")], ["status", t("byStatus")]], countyMap.mode);
    renderCards($("#cards"), data, state.year);
    renderCountyTable($("#county-table"), data, state.year);
    renderStatusLegend($("#status-legend"));
    disposeCharts();
    const scope = scopes.find((s) => `${s.scope}:${s.code}` === state.trendScope) || scopes[0];
    renderTrends($("#trends"), data, scope, state.year);
    renderConflictChart($("#conflict-chart"), data.conflicts);
    renderConflictTable($("#conflict-table"), data.conflicts);
    countyMap.update({ year: state.year });
    downloads(state.year);
    // the view is its address: language and target year (a link, a bookmark, a reload keep it)
    const query = new URLSearchParams({ year: String(state.year), ...(lang() === "en" ? { lang: "en" } : {}) });
    history.replaceState(null, "", `${location.pathname}?${query}`);
  };

  $("#year").addEventListener("change", (e) => {
    state.year = Number(e.target.value);
    render();
  });
  $("#trend-scope").addEventListener("change", (e) => {
    state.trendScope = e.target.value;
    render();
  });
  $("#map-indicator").addEventListener("change", (e) => countyMap.update({ indicator: e.target.value }));
  $("#map-mode").addEventListener("change", (e) => countyMap.update({ mode: e.target.value }));
  $("#lang").addEventListener("click", () => {
    setLang(lang() === "zh" ? "en" : "zh");
    render();
  });
  $("#print").addEventListener("click", () => window.print());
  addEventListener("resize", resizeCharts);
  addEventListener("beforeprint", resizeCharts);
  render();
  countyMap.whenVisible();
  window.onemapDashboard = { data, state, countyMap, render, ready: true, audience };
}

start().catch((error) => {
  console.error(error);
  const p = document.createElement("p");
  p.className = "fatal";
  p.textContent = error.status === 404 ? t("noMonitoring") : String(error.message || error);
  document.body.append(p);
  window.onemapDashboard = { ready: false, error: String(error.message || error) };
});
