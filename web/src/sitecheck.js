// "Check a site" (选址检查): draw a polygon (click its corners, double-click or 完成 to close) or tap
// a point with a radius, run the OGC API process site-check, show the verdict and the report, and
// outline the site and the control-line features it touches. The report prints on one A4 page.
import { getJSON, paths } from "./api.js";
import { el } from "./dom.js";
import { lang, t } from "./i18n.js";
import { formatArea } from "./info.js";
import { bbox } from "./search.js";

const DRAFT = "onemap-site-draft";
const SITE = "onemap-site";
const TOUCHED = "onemap-site-touched";
const VERDICT_COLOUR = { prohibited: "#c62828", review: "#ef8f00", conforming: "#2e7d32" };
const TEXT = {
  zh: {
    polygon: "画多边形",
    point: "点选＋半径",
    radius: "半径（米）",
    use: "拟用途代码（可选）",
    finish: "完成",
    run: "检查",
    clear: "清除",
    print: "打印报告",
    drawHint: "在地图上依次点击用地范围的各个角点，双击或点“完成”结束。",
    pointHint: "在地图上点击选址位置。",
    running: "正在检查…",
    verdict: { prohibited: "禁止", review: "需审查", conforming: "符合" },
    siteArea: "用地面积",
    controlLines: "三区三线",
    role: { red_line: "生态保护红线", farmland: "永久基本农田", urban_boundary: "城镇开发边界" },
    overlap: "重叠面积",
    share: "占比",
    zones: "规划分区",
    landUse: "用地用海规划",
    currentUse: "现状地类",
    surroundings: "周边",
    kinds: { villages: "村庄", roads: "道路", rivers: "河流", protected_areas: "自然保护地", urban_boundary: "城镇开发边界" },
    outside: "选址不在规划范围内",
    repaired: "输入的多边形自相交，已修复",
    reportTitle: "用地选址检查报告",
  },
  en: {
    polygon: "Draw polygon",
    point: "Point + radius",
    radius: "Radius (m)",
    use: "Intended use code (optional)",
    finish: "Finish",
    run: "Check",
    clear: "Clear",
    print: "Print report",
    drawHint: "Click the site's corners on the map; double-click or Finish to close it.",
    pointHint: "Click the site's location on the map.",
    running: "Checking…",
    verdict: { prohibited: "Prohibited", review: "Review", conforming: "Conforming" },
    siteArea: "Site area",
    controlLines: "Control lines",
    role: { red_line: "Ecological red line", farmland: "Permanent basic farmland", urban_boundary: "Urban development boundary" },
    overlap: "Overlap",
    share: "Share",
    zones: "Planning zones",
    landUse: "Planned land use",
    currentUse: "Current land use",
    surroundings: "Surroundings",
    kinds: { villages: "Villages", roads: "Roads", rivers: "Rivers", protected_areas: "Protected areas", urban_boundary: "Urban boundary" },
    outside: "The site is outside the plan area",
    repaired: "The polygon crossed itself and was repaired",
    reportTitle: "Site check report",
  },
};

const tx = () => TEXT[lang()];
const pct = (share) => `${(share * 100).toFixed(share < 0.01 && share > 0 ? 2 : 1)}%`;
const empty = { type: "FeatureCollection", features: [] };

export class SiteCheck {
  constructor(map, layers, container, show) {
    this.map = map;
    this.layers = layers;
    this.container = container;
    this.show = show;
    this.mode = null; // "polygon" | "point" while drawing
    this.vertices = [];
    this.point = null;
    this.radius = 200;
    this.use = "";
    this.report = null;
    this.error = null;
    this.busy = false;
    map.addSource(DRAFT, { type: "geojson", data: empty });
    map.addSource(SITE, { type: "geojson", data: empty });
    map.addLayer({ id: `${SITE}-fill`, type: "fill", source: SITE, paint: { "fill-color": "#1565c0", "fill-opacity": 0.18 } });
    map.addLayer({ id: `${SITE}-line`, type: "line", source: SITE, paint: { "line-color": "#0d47a1", "line-width": 2.5 } });
    map.addLayer({ id: `${DRAFT}-line`, type: "line", source: DRAFT, paint: { "line-color": "#0d47a1", "line-width": 2, "line-dasharray": [2, 1] } });
    map.addLayer({
      id: `${DRAFT}-point`,
      type: "circle",
      source: DRAFT,
      filter: ["==", ["geometry-type"], "Point"],
      paint: { "circle-radius": 4, "circle-color": "#fff", "circle-stroke-color": "#0d47a1", "circle-stroke-width": 2 },
    });
    map.on("dblclick", (event) => {
      if (this.mode === "polygon") {
        event.preventDefault();
        this.finish();
      }
    });
    this.render();
  }

  /** A map click while drawing adds a corner (or sets the point): true if it was used. */
  handleClick(event) {
    if (!this.mode) return false;
    const at = event.lngLat.toArray();
    if (this.mode === "polygon") {
      const last = this.vertices[this.vertices.length - 1];
      if (!last || last[0] !== at[0] || last[1] !== at[1]) this.vertices.push(at);
    } else {
      this.point = at;
      this.mode = null;
      this.map.getCanvas().style.cursor = "";
    }
    this.drawDraft();
    this.render();
    return true;
  }

  start(mode) {
    this.mode = mode;
    this.vertices = [];
    this.point = null;
    this.report = null;
    this.error = null;
    this.map.getSource(SITE).setData(empty);
    this.clearTouched();
    this.map.getCanvas().style.cursor = "crosshair";
    this.map.doubleClickZoom.disable();
    this.drawDraft();
    this.render();
  }

  finish() {
    if (this.mode !== "polygon" || this.vertices.length < 3) return;
    this.mode = null;
    this.map.getCanvas().style.cursor = "";
    setTimeout(() => this.map.doubleClickZoom.enable(), 0);
    this.drawDraft();
    this.render();
  }

  clear() {
    this.mode = null;
    this.vertices = [];
    this.point = null;
    this.report = null;
    this.error = null;
    this.map.getCanvas().style.cursor = "";
    this.map.doubleClickZoom.enable();
    this.map.getSource(SITE).setData(empty);
    this.clearTouched();
    this.drawDraft();
    this.render();
  }

  site() {
    if (this.vertices.length >= 3 && this.mode !== "polygon") {
      return { geometry: { type: "Polygon", coordinates: [[...this.vertices, this.vertices[0]]] } };
    }
    if (this.point) return { geometry: { type: "Point", coordinates: this.point }, buffer_m: this.radius };
    return null;
  }

  drawDraft() {
    const features = this.vertices.map((v) => ({ type: "Feature", properties: {}, geometry: { type: "Point", coordinates: v } }));
    if (this.vertices.length >= 2) {
      const ring = this.mode === "polygon" ? this.vertices : [...this.vertices, this.vertices[0]];
      features.push({ type: "Feature", properties: {}, geometry: { type: "LineString", coordinates: ring } });
    }
    if (this.point) features.push({ type: "Feature", properties: {}, geometry: { type: "Point", coordinates: this.point } });
    this.map.getSource(DRAFT).setData({ type: "FeatureCollection", features });
  }

  async run() {
    const site = this.site();
    if (!site) return;
    this.busy = true;
    this.error = null;
    this.render();
    const inputs = { ...site };
    if (this.use) inputs.intended_use = this.use;
    try {
      this.report = await getJSON(`${paths.ogc}/processes/site-check/execution`, {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({ inputs }),
      });
      this.showReport();
    } catch (error) {
      this.report = null;
      this.error = error.body?.description || String(error.message || error);
    } finally {
      this.busy = false;
      this.render();
    }
  }

  showReport() {
    const report = this.report;
    const geometry = report.site?.geometry;
    if (geometry) {
      this.map.getSource(SITE).setData({ type: "Feature", properties: {}, geometry });
      this.map.getSource(DRAFT).setData(empty);
      const phone = matchMedia("(max-width: 480px)").matches;
      const padding = phone ? { top: 70, bottom: 70, left: 20, right: 20 } : { top: 140, bottom: 140, left: 480, right: 140 };
      this.map.fitBounds(bbox(geometry), { padding, maxZoom: 16, duration: 0 });
    }
    // outline the control-line features the site touches (their ids are the tiles' ids)
    this.clearTouched();
    const byLayer = new Map();
    for (const line of Object.values(report.control_lines || {})) {
      for (const f of line.features || []) {
        if (!byLayer.has(f.layer)) byLayer.set(f.layer, []);
        byLayer.get(f.layer).push(f.fid);
      }
    }
    for (const [layer, ids] of byLayer) {
      if (!this.layers.byId.has(layer)) continue;
      this.map.addLayer({
        id: `${TOUCHED}-${layer}`,
        type: "line",
        source: "plan",
        "source-layer": layer,
        filter: ["in", ["id"], ["literal", ids]],
        paint: { "line-color": "#ff6d00", "line-width": 3 },
      });
    }
  }

  clearTouched() {
    for (const layer of this.map.getStyle().layers) {
      if (layer.id.startsWith(TOUCHED)) this.map.removeLayer(layer.id);
    }
  }

  /** Put a picture of the map into the report (read inside a render: the drawing buffer is
   *  only readable then). */
  snapshot() {
    const img = this.container.querySelector(".report-map");
    if (!img) return Promise.resolve(null);
    this.map.redraw(); // draws now: the drawing buffer is readable until this task ends
    img.src = this.map.getCanvas().toDataURL("image/png");
    return img.decode().then(() => img, () => img);
  }

  async print() {
    const img = await this.snapshot();
    if (img && !img.complete) await new Promise((resolve) => img.addEventListener("load", resolve, { once: true }));
    window.print();
  }

  render() {
    const s = tx();
    const root = el("div", { class: "sitecheck" });
    const tools = el(
      "div",
      { class: "tools" },
      el("button", { type: "button", "data-mode": "polygon", class: this.mode === "polygon" ? "on" : "", onclick: () => this.start("polygon") }, s.polygon),
      el("button", { type: "button", "data-mode": "point", class: this.mode === "point" ? "on" : "", onclick: () => this.start("point") }, s.point),
    );
    root.append(tools);
    const radius = el("input", { type: "number", min: "1", max: "5000", step: "10", value: String(this.radius), id: "site-radius" });
    radius.addEventListener("change", () => (this.radius = Number(radius.value) || 200));
    const use = el("input", { type: "text", inputmode: "numeric", pattern: "[0-9]{2,6}", value: this.use, id: "site-use", list: "site-use-codes", placeholder: "1001" });
    use.addEventListener("change", () => (this.use = use.value.trim()));
    const codes = el("datalist", { id: "site-use-codes" });
    for (const entry of this.layers.byId.get("ydyh")?.entries || []) {
      for (const value of (entry.values || []).slice(0, 1)) {
        codes.append(el("option", { value }, lang() === "zh" ? entry.label_zh : entry.label_en));
      }
    }
    root.append(
      el("label", {}, el("span", {}, s.radius), radius),
      el("label", {}, el("span", {}, s.use), use, codes),
    );
    if (this.mode) root.append(el("p", { class: "hint" }, this.mode === "polygon" ? s.drawHint : s.pointHint));
    const actions = el("div", { class: "tools" });
    if (this.mode === "polygon") {
      const finish = el("button", { type: "button", id: "site-finish", onclick: () => this.finish() }, s.finish);
      if (this.vertices.length < 3) finish.disabled = true;
      actions.append(finish);
    }
    const run = el("button", { type: "button", id: "site-run", class: "primary", onclick: () => this.run() }, this.busy ? s.running : s.run);
    if (!this.site() || this.busy) run.disabled = true;
    actions.append(run, el("button", { type: "button", id: "site-clear", onclick: () => this.clear() }, s.clear));
    root.append(actions);
    if (this.error) root.append(el("p", { class: "error", id: "site-error" }, this.error));
    if (this.report) root.append(this.reportView(this.report));
    this.container.replaceChildren(root);
  }

  reportView(r) {
    const s = tx();
    const L = lang();
    const box = el("section", { class: "report", id: "site-report", "data-verdict": r.verdict });
    box.append(el("h3", { class: "report-title" }, s.reportTitle));
    const badge = el("p", { class: "verdict", id: "site-verdict", "data-verdict": r.verdict }, s.verdict[r.verdict] || r.verdict);
    badge.style.background = VERDICT_COLOUR[r.verdict] || "#555";
    box.append(badge);
    const reasons = el("ul", { class: "reasons" });
    for (const reason of r.reasons || []) reasons.append(el("li", { "data-code": reason.code }, reason[L] || reason.zh));
    if (r.outside_plan_area) reasons.append(el("li", {}, s.outside));
    if (r.site?.repaired) reasons.append(el("li", {}, s.repaired));
    box.append(reasons);
    box.append(el("img", { class: "report-map", alt: "" }));
    box.append(el("p", {}, `${s.siteArea}: ${formatArea(r.site?.area_m2)}`));
    const lines = el("table", { class: "report-table", id: "site-lines" });
    lines.append(el("tr", {}, el("th", {}, s.controlLines), el("th", {}, s.overlap), el("th", {}, s.share)));
    for (const [role, line] of Object.entries(r.control_lines || {})) {
      lines.append(el("tr", { "data-role": role }, el("td", {}, s.role[role] || role), el("td", {}, formatArea(line.overlap_m2)), el("td", {}, pct(line.share))));
    }
    box.append(lines);
    for (const [key, title] of [["planning_zones", s.zones], ["land_use", s.landUse], ["current_use", s.currentUse]]) {
      const rows = r[key] || [];
      if (!rows.length) continue;
      const table = el("table", { class: "report-table", "data-part": key });
      table.append(el("tr", {}, el("th", {}, title), el("th", {}, s.overlap), el("th", {}, s.share)));
      for (const row of rows.slice(0, 8)) {
        table.append(el("tr", {}, el("td", {}, `${row.code} ${row.name ?? ""}`), el("td", {}, formatArea(row.area_m2)), el("td", {}, pct(row.share))));
      }
      box.append(table);
    }
    const around = r.surroundings || {};
    const list = el("ul", { class: "surroundings" });
    for (const [kind, items] of Object.entries(around)) {
      if (!Array.isArray(items) || !items.length) continue;
      const names = items.slice(0, 4).map((i) => `${i.name ?? i.bsm ?? ""} ${Math.round(i.distance_m)} m`);
      list.append(el("li", {}, el("strong", {}, `${s.kinds[kind] || kind}: `), names.join("，")));
    }
    box.append(el("h4", {}, `${s.surroundings}（${around.radius_m ?? ""} m）`), list);
    box.append(el("button", { type: "button", id: "site-print", class: "no-print", onclick: () => this.print() }, s.print));
    return box;
  }
}
