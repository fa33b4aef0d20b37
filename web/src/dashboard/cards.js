// The indicator cards: the city's value, unit, target for the chosen year, status and delta.
import { pick, t } from "../i18n.js";
import { formatDelta, formatNumber, formatTarget, statusText } from "./model.js";

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

export { el };

export function renderCards(container, data, year) {
  container.replaceChildren();
  for (const indicator of data.indicators) {
    const result = data.city ? data.result(indicator.id, data.city) : null;
    const target = data.target(result, year);
    const status = target?.status ?? null;
    const card = el("article", `card status-${status || "none"}`);
    card.dataset.indicator = indicator.id;
    card.append(el("h3", "card-name", pick(indicator.name)));
    card.append(el("span", `kind kind-${indicator.kind}`, t(indicator.kind)));
    const value = el("p", "card-value");
    value.append(el("strong", "", formatNumber(result?.value)), el("span", "unit", ` ${indicator.unit || ""}`));
    card.append(value);
    card.append(el("p", "card-target", `${t("target")} ${year ?? ""}: ${formatTarget(target, indicator.unit)}`));
    const foot = el("p", "card-foot");
    foot.append(el("span", `badge badge-${status || "none"}`, statusText(status)));
    const delta = result?.delta;
    const deltaClass = delta > 0 ? "up" : delta < 0 ? "down" : "flat";
    foot.append(el("span", `delta delta-${deltaClass}`, `${t("delta")} ${formatDelta(delta)}`));
    card.append(foot);
    container.append(card);
  }
}
