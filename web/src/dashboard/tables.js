// The county table (status colour per indicator × county) and the conflict table.
import { pick, t } from "../i18n.js";
import { el } from "./cards.js";
import { formatNumber, formatTarget, statusText } from "./model.js";

export function renderCountyTable(table, data, year) {
  const head = el("tr");
  head.append(el("th", "", t("county")));
  for (const indicator of data.indicators) {
    const th = el("th", "", pick(indicator.name));
    th.append(el("small", "", indicator.unit ? ` (${indicator.unit})` : ""));
    head.append(th);
  }
  const rows = [data.city, ...data.counties].filter(Boolean).map((scope) => {
    const tr = el("tr", scope.scope === "city" ? "city-row" : "");
    tr.dataset.code = scope.code;
    tr.append(el("th", "", scope.name));
    for (const indicator of data.indicators) {
      const result = data.result(indicator.id, scope);
      const target = data.target(result, year);
      const status = target?.status ?? null;
      const td = el("td", `cell status-${status || "none"}`, formatNumber(result?.value));
      td.dataset.indicator = indicator.id;
      td.dataset.status = status || "";
      td.title = `${statusText(status)} · ${t("target")} ${formatTarget(target, indicator.unit)}`;
      tr.append(td);
    }
    return tr;
  });
  const thead = el("thead");
  thead.append(head);
  const tbody = el("tbody");
  tbody.append(...rows);
  table.replaceChildren(thead, tbody);
}

export function renderStatusLegend(container) {
  container.replaceChildren(
    ...["ok", "warning", "breach", null].map((s) => {
      const item = el("span", "legend-item");
      item.append(el("i", `swatch status-${s || "none"}`), el("span", "", statusText(s)));
      return item;
    }),
  );
}

/** The conflict areas per county: rows kind × (city, counties), hectares and feature counts. */
export function renderConflictTable(table, conflicts) {
  if (!conflicts || !conflicts.kinds?.length) {
    table.replaceChildren(el("caption", "", t("noConflicts")));
    return;
  }
  const names = new Map(conflicts.kinds.map((k) => [k.id, pick(k.name)]));
  const head = el("tr");
  for (const key of ["kind", "county", "areaHa", "features"]) head.append(el("th", "", t(key)));
  const body = el("tbody");
  for (const area of conflicts.areas) {
    const tr = el("tr", area.scope === "city" ? "city-row" : "");
    tr.append(el("td", "", names.get(area.kind) || area.kind), el("td", "", area.name || area.code));
    tr.append(el("td", "num", formatNumber(area.area_ha, 2)), el("td", "num", String(area.features)));
    body.append(tr);
  }
  const thead = el("thead");
  thead.append(head);
  table.replaceChildren(thead, body);
}
