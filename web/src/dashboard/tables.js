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

/** The conflict areas: a row per kind, a column for the city and each county (hectares; the
 * number of features in the cell's title). */
export function renderConflictTable(table, conflicts) {
  if (!conflicts || !conflicts.kinds?.length) {
    table.replaceChildren(el("caption", "", t("noConflicts")));
    return;
  }
  const units = [];
  for (const area of conflicts.areas) {
    if (!units.some((u) => u.scope === area.scope && u.code === area.code)) units.push(area);
  }
  units.sort((a, b) => (a.scope === "city" ? -1 : b.scope === "city" ? 1 : 0));
  const head = el("tr");
  head.append(el("th", "", t("kind")));
  for (const unit of units) head.append(el("th", unit.scope === "city" ? "num city-col" : "num", unit.name || unit.code));
  const body = el("tbody");
  for (const kind of conflicts.kinds) {
    const tr = el("tr");
    tr.append(el("th", "", pick(kind.name)));
    for (const unit of units) {
      const area = conflicts.areas.find((a) => a.kind === kind.id && a.scope === unit.scope && a.code === unit.code);
      const td = el("td", unit.scope === "city" ? "num city-col" : "num", formatNumber(area?.area_ha, 2));
      Object.assign(td.dataset, { kind: kind.id, code: unit.code, ha: String(area?.area_ha ?? "") });
      td.title = `${t("features")}: ${area?.features ?? 0}`;
      tr.append(td);
    }
    body.append(tr);
  }
  const thead = el("thead");
  thead.append(head);
  table.replaceChildren(thead, body);
}
