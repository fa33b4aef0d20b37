// The indicator data as the page reads it (/indicators/{audience}.json: the contract of issue 14):
// results by indicator and scope, the target of a year, numbers and statuses as shown.
import { lang, t } from "../i18n.js";

export const STATUS_COLOURS = { ok: "#2e7d32", warning: "#f9a825", breach: "#c62828", null: "#9e9e9e" };

export class Monitoring {
  constructor(doc) {
    this.release = doc.release;
    this.doc = doc.monitoring;
    this.conflicts = doc.conflicts;
    this.trend = doc.trend || [];
    this.indicators = this.doc.indicators || [];
    this.scopes = this.doc.scopes || [];
    this.city = this.scopes.find((s) => s.scope === "city");
    this.counties = this.scopes.filter((s) => s.scope === "county");
    this.years = this.doc.target_years || [];
    this.byKey = new Map();
    for (const r of this.doc.results || []) this.byKey.set(`${r.indicator}|${r.scope}:${r.code}`, r);
  }

  /** The year statuses stand for: the first target year at or after the data's year, else the last. */
  defaultYear() {
    const after = this.years.find((y) => y >= this.doc.year);
    return after ?? this.years[this.years.length - 1] ?? null;
  }

  result(indicator, scope) {
    return this.byKey.get(`${indicator}|${scope.scope}:${scope.code}`) || null;
  }

  /** The result's target for `year` ({year, rule, target, band, status}) or null. */
  target(result, year) {
    return result?.targets?.find((x) => x.year === year) || null;
  }

  status(result, year) {
    return this.target(result, year)?.status ?? null;
  }
}

export function formatNumber(value, digits = 2) {
  if (value === null || value === undefined || Number.isNaN(value)) return "—";
  return Number(value).toLocaleString(lang() === "zh" ? "zh-CN" : "en-GB", { maximumFractionDigits: digits });
}

/** "+2.35", "−1.2", "0" or "—": a delta with its sign. */
export function formatDelta(value) {
  if (value === null || value === undefined) return "—";
  const text = formatNumber(Math.abs(value));
  return value > 0 ? `+${text}` : value < 0 ? `−${text}` : "0";
}

export function formatTarget(target, unit) {
  if (!target) return t("noTarget");
  const u = unit ? ` ${unit}` : "";
  if (target.rule === "between" && Array.isArray(target.target)) {
    return `${formatNumber(target.target[0])}–${formatNumber(target.target[1])}${u}`;
  }
  const sign = target.rule === "at_least" ? "≥" : target.rule === "at_most" ? "≤" : "";
  return `${sign} ${formatNumber(target.target)}${u}`;
}

export function statusText(status) {
  return t(status || "unknown");
}
