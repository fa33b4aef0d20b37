// The layer list: grouped as planners think, each layer with its toggle and its legend (from
// /styles/{audience}/layers.json, which the server derives from the style itself).
import { lang, pick, t } from "./i18n.js";

// Groups in the order planners read a plan; groups not listed follow in the catalog's order.
// Their names in either language come with the layers (group_title in layers.json).
const GROUP_ORDER = ["三区三线", "规划分区", "用地用海", "现状", "行政区", "村庄", "基础地理"];

export class LayerList {
  constructor(map, doc, container, onChange) {
    this.map = map;
    this.items = doc.layers;
    this.byId = new Map(this.items.map((item) => [item.layer, item]));
    this.container = container;
    this.onChange = onChange;
    // style layers of each catalog layer, and which catalog layers cover the ground
    this.styleLayers = new Map();
    this.surfaces = new Set();
    for (const layer of map.getStyle().layers) {
      const meta = layer.metadata || {};
      const id = meta["onemap:layer"];
      if (!id) continue;
      if (!this.styleLayers.has(id)) this.styleLayers.set(id, []);
      this.styleLayers.get(id).push(layer.id);
      if (meta["onemap:exclusive"] === "surface") this.surfaces.add(id);
    }
    this.visible = new Set(this.items.filter((item) => item.visible).map((item) => item.layer));
  }

  /** The catalog layer ids that are on, in the list's order. */
  visibleIds() {
    return this.items.map((item) => item.layer).filter((id) => this.visible.has(id));
  }

  setVisible(ids) {
    const wanted = new Set(ids.filter((id) => this.byId.has(id)));
    // at most one surface
    const surfaces = [...wanted].filter((id) => this.surfaces.has(id));
    for (const extra of surfaces.slice(1)) wanted.delete(extra);
    this.visible = wanted;
    this.apply();
  }

  toggle(id, on) {
    if (on) {
      if (this.surfaces.has(id)) for (const other of this.surfaces) this.visible.delete(other);
      this.visible.add(id);
    } else {
      this.visible.delete(id);
    }
    this.apply();
  }

  apply() {
    for (const [id, styleIds] of this.styleLayers) {
      const value = this.visible.has(id) ? "visible" : "none";
      for (const styleId of styleIds) this.map.setLayoutProperty(styleId, "visibility", value);
    }
    this.render();
    this.onChange?.();
  }

  /** The groups in the order planners read: [{name, title ({zh, en} or a string), items}]. */
  groups() {
    const groups = new Map();
    for (const item of this.items) {
      const name = item.group || t("other");
      if (!groups.has(name)) groups.set(name, { name, title: item.group_title || name, items: [] });
      groups.get(name).items.push(item);
    }
    const rank = (name) => {
      const i = GROUP_ORDER.indexOf(name);
      return i < 0 ? GROUP_ORDER.length : i;
    };
    return [...groups.values()].sort((a, b) => rank(a.name) - rank(b.name));
  }

  render() {
    const root = document.createElement("div");
    root.className = "layer-list";
    for (const { title, items } of this.groups()) {
      const section = document.createElement("section");
      section.className = "layer-group";
      const h = document.createElement("h3");
      h.textContent = pick(title);
      section.append(h);
      for (const item of items) section.append(this.row(item));
      root.append(section);
    }
    this.container.replaceChildren(root);
  }

  row(item) {
    const row = document.createElement("div");
    row.className = "layer";
    row.dataset.layer = item.layer;
    const label = document.createElement("label");
    const box = document.createElement("input");
    box.type = "checkbox";
    box.checked = this.visible.has(item.layer);
    box.dataset.layer = item.layer;
    box.addEventListener("change", () => this.toggle(item.layer, box.checked));
    const first = item.entries[0];
    const name = document.createElement("span");
    name.className = "layer-name";
    name.textContent = pick(item.title);
    label.append(box);
    if (item.entries.length === 1 && first) label.append(swatch(first));
    label.append(name);
    row.append(label);
    if (item.entries.length > 1) {
      const details = document.createElement("details");
      details.className = "legend";
      details.open = this.visible.has(item.layer) && item.entries.length <= 12;
      const summary = document.createElement("summary");
      summary.textContent = lang() === "zh" ? `图例（${item.entries.length}）` : `Legend (${item.entries.length})`;
      details.append(summary);
      const list = document.createElement("ul");
      for (const entry of item.entries) {
        const li = document.createElement("li");
        const text = document.createElement("span");
        text.textContent = lang() === "zh" ? entry.label_zh : entry.label_en;
        li.append(swatch(entry), text);
        list.append(li);
      }
      details.append(list);
      row.append(details);
    }
    return row;
  }

  /** The legend entry of `code` in layer `id` (exact value, else its nearest ancestor). */
  classOf(id, code) {
    const item = this.byId.get(id);
    if (!item || code == null) return null;
    const value = String(code);
    for (let n = value.length; n > 0; n--) {
      const prefix = value.slice(0, n);
      const entry = item.entries.find((e) => (e.values || []).map(String).includes(prefix));
      if (entry) return entry;
    }
    return null;
  }
}

/** A legend swatch drawn from a legend entry: a filled box, a line or a dot. */
export function swatch(entry) {
  const el = document.createElement("span");
  el.className = `swatch swatch-${entry.kind}`;
  const colour = entry.colour || "#999";
  if (entry.kind === "fill") {
    // a translucent fill as it looks over white paper
    const percent = entry.opacity == null ? 100 : Math.round(entry.opacity * 100);
    el.style.background = `color-mix(in srgb, ${colour} ${percent}%, white)`;
    if (entry.outline) {
      el.style.border = `2px ${entry.outline_dash ? "dashed" : "solid"} ${entry.outline}`;
    }
  } else if (entry.kind === "line") {
    el.style.borderTop = `${Math.max(2, Math.min(4, entry.width || 2))}px ${entry.dash ? "dashed" : "solid"} ${colour}`;
  } else {
    el.style.background = colour;
  }
  return el;
}
