// "What is here?": a click lists the features of every visible layer under the point (top of the
// map first) with their published attributes, names in Chinese, codes with their class names and
// areas in m² and hectares; the top feature's full geometry (OGC API) is outlined on the map.
import { getJSON, paths } from "./api.js";
import { lang, pick, t } from "./i18n.js";
import { swatch } from "./layers.js";

const HIGHLIGHT = "onemap-selection";
const AREA_FIELDS = new Set(["MJ", "area_m2"]);

export function addHighlightLayers(map) {
  map.addSource(HIGHLIGHT, { type: "geojson", data: { type: "FeatureCollection", features: [] } });
  map.addLayer({
    id: `${HIGHLIGHT}-fill`,
    type: "fill",
    source: HIGHLIGHT,
    filter: ["in", ["geometry-type"], ["literal", ["Polygon", "MultiPolygon"]]],
    paint: { "fill-color": "#00E5FF", "fill-opacity": 0.25 },
  });
  map.addLayer({
    id: `${HIGHLIGHT}-line`,
    type: "line",
    source: HIGHLIGHT,
    paint: { "line-color": "#00B8D4", "line-width": 3 },
  });
  map.addLayer({
    id: `${HIGHLIGHT}-point`,
    type: "circle",
    source: HIGHLIGHT,
    filter: ["in", ["geometry-type"], ["literal", ["Point", "MultiPoint"]]],
    paint: { "circle-radius": 8, "circle-color": "rgba(0,0,0,0)", "circle-stroke-color": "#00B8D4", "circle-stroke-width": 3 },
  });
}

/** Outline `geometry` on the map; `from` ("tile" or "ogc") is kept on <body data-selection>. */
export function highlight(map, geometry, from = "tile") {
  document.body.dataset.selection = geometry ? from : "";
  const data = geometry
    ? { type: "FeatureCollection", features: [{ type: "Feature", properties: {}, geometry }] }
    : { type: "FeatureCollection", features: [] };
  map.getSource(HIGHLIGHT)?.setData(data);
}

export function formatArea(m2) {
  const value = Number(m2);
  if (!Number.isFinite(value)) return String(m2);
  const locale = lang() === "zh" ? "zh-CN" : "en";
  const sqm = value.toLocaleString(locale, { maximumFractionDigits: 1 });
  const ha = (value / 10000).toLocaleString(locale, { maximumFractionDigits: 2 });
  return `${sqm} m²（${ha} ${t("hectares")}）`;
}

export class InfoPanel {
  constructor(map, layerList, container, show) {
    this.map = map;
    this.layers = layerList;
    this.container = container;
    this.show = show; // opens the panel's tab
    this.last = null;
  }

  /** Features under `point` (pixels), one per visible catalog layer, top of the map first. */
  featuresAt(point) {
    const pad = matchMedia("(pointer: coarse)").matches ? 8 : 3;
    const box = [
      [point.x - pad, point.y - pad],
      [point.x + pad, point.y + pad],
    ];
    const seen = new Set();
    const found = [];
    for (const feature of this.map.queryRenderedFeatures(box)) {
      const meta = feature.layer.metadata || {};
      const id = meta["onemap:layer"];
      if (!id || meta["onemap:part"] === "label" || seen.has(id)) continue;
      if (!this.layers.visible.has(id)) continue;
      seen.add(id);
      found.push({ layer: id, id: feature.id, properties: feature.properties, geometry: feature.geometry });
    }
    return found;
  }

  /** Show `found`; `whole` says the top feature's geometry is already the OGC API's. */
  async open(found, whole = false) {
    this.last = found;
    this.render(found);
    this.show();
    const top = found[0];
    highlight(this.map, top ? top.geometry : null, whole ? "ogc" : "tile");
    if (top && top.id != null && !whole) {
      try {
        const item = await getJSON(`${paths.ogc}/collections/${encodeURIComponent(top.layer)}/items/${top.id}?f=json`);
        if (this.last === found && item.geometry) highlight(this.map, item.geometry, "ogc");
      } catch {
        /* keep the tile's geometry */
      }
    }
  }

  render(found = this.last) {
    const root = document.createElement("div");
    root.className = "info";
    if (!found || !found.length) {
      const p = document.createElement("p");
      p.className = "hint";
      p.textContent = t("clickHint");
      root.append(p);
    }
    for (const feature of found || []) root.append(this.card(feature));
    this.container.replaceChildren(root);
  }

  card(feature) {
    const item = this.layers.byId.get(feature.layer) || {};
    const card = document.createElement("article");
    card.className = "feature";
    card.dataset.layer = feature.layer;
    const h = document.createElement("h4");
    const code = item.code_field ? feature.properties[item.code_field] : null;
    const cls = code != null ? this.layers.classOf(feature.layer, code) : null;
    h.append(cls ? swatch(cls) : item.entries?.[0] ? swatch(item.entries[0]) : "");
    const title = document.createElement("span");
    const name = item.name_field ? feature.properties[item.name_field] : null;
    title.textContent = name ? `${name} · ${pick(item.title)}` : pick(item.title);
    h.append(title);
    card.append(h);
    const table = document.createElement("table");
    // the layer's published fields with their titles (layers.json); else the tile's attributes
    const fields = item.fields?.length ? item.fields : Object.keys(feature.properties).map((name) => ({ name }));
    for (const { name: field, title: fieldTitle } of fields) {
      const value = feature.properties[field];
      if (value === undefined || value === null || value === "") continue;
      const tr = document.createElement("tr");
      tr.dataset.field = field;
      const th = document.createElement("th");
      th.textContent = pick(fieldTitle) || field;
      th.title = field;
      const td = document.createElement("td");
      td.textContent = this.value(feature, item, field, value);
      tr.append(th, td);
      table.append(tr);
    }
    card.append(table);
    return card;
  }

  value(feature, item, field, value) {
    if (AREA_FIELDS.has(field)) return formatArea(value);
    if (field === item.code_field) {
      const cls = this.layers.classOf(feature.layer, value);
      // the feature's own class name (…MC beside …DM/…BM) wins; else the legend's
      const own = feature.properties[field.replace(/(DM|BM)$/, "MC")];
      const label = cls ? (lang() === "zh" ? cls.label_zh : cls.label_en) : null;
      if (lang() === "zh" && own) return `${value} ${own}`;
      return label ? `${value} ${label}${own && lang() !== "zh" ? `（${own}）` : ""}` : String(value);
    }
    return String(value);
  }
}
