// 版本对比 (compare): two kept releases side by side, each drawn from its own style and tiles
// (/releases/{id}/…), swiped on a desktop and stacked on a phone, moving together; the features
// that changed between them drawn over both maps (green added, red removed, orange changed:
// the `changes` layer of the releases' archives), or alone ("changes only"); and the changed
// features listed per layer, each flown to on click.
import { getJSON } from "./api.js";
import { el } from "./dom.js";
import { lang, pick } from "./i18n.js";
import { newMap, zoomButtons } from "./maps.js";
import { changesBetween, defaultPair, loadReleases } from "./releases.js";
import { bbox } from "./search.js";
import { Swipe, syncMaps } from "./swipe.js";

export const CHANGE_COLOURS = { added: "#00C853", removed: "#D50000", changed: "#FF9100" };
const OVERLAY = "onemap-changes"; // prefix of the overlay's sources and style layers
const CHANGES_LAYER = "changes"; // the archives' vector layer of changed features
const MODES = ["overlay", "only", "off"];
const MAX_ROWS = 300; // rows listed per layer
const PHONE = matchMedia("(max-width: 480px)");
// a changed feature's key in the tiles: "<layer>:<id>"
const KEY = ["concat", ["get", "layer"], ":", ["to-string", ["get", "id"]]];

const TEXT = {
  zh: {
    start: "开始对比",
    stop: "结束对比",
    left: "左（前）",
    right: "右（后）",
    current: "当前",
    changes: "变化",
    modes: { overlay: "叠加显示", only: "仅显示变化", off: "不显示" },
    kinds: { added: "新增", removed: "删除", changed: "变更" },
    id: "标识码",
    kind: "变化",
    detail: "说明",
    total: (n, k) => `共 ${n} 处变化（新增 ${k.added}，删除 ${k.removed}，变更 ${k.changed}）`,
    across: (n) => `跨 ${n} 个版本的累计变化`,
    turned: "左侧版本较新：变化按从右到左列出的反向显示",
    more: (n) => `另有 ${n} 项未列出`,
    none: "两个版本之间没有变化",
    unlinked: "这两个版本之间没有连续的变化记录，无法列出变化",
    same: "请选择两个不同的版本",
    loading: "正在加载版本…",
    tooFew: "保留的版本少于两个，无法对比",
    unavailable: "无法读取版本列表",
    notKept: (id) => `版本 ${id} 已不再保留，已改用默认版本`,
    hint: "点击表中的要素定位到地图",
  },
  en: {
    start: "Compare",
    stop: "Stop comparing",
    left: "Left (before)",
    right: "Right (after)",
    current: "current",
    changes: "Changes",
    modes: { overlay: "Overlay", only: "Changes only", off: "Hidden" },
    kinds: { added: "Added", removed: "Removed", changed: "Changed" },
    id: "ID",
    kind: "Change",
    detail: "Detail",
    total: (n, k) => `${n} changes (${k.added} added, ${k.removed} removed, ${k.changed} changed)`,
    across: (n) => `Changes accumulated over ${n} releases`,
    turned: "The left release is the newer one: the changes are shown from right to left",
    more: (n) => `${n} more not listed`,
    none: "Nothing changed between these releases",
    unlinked: "No chain of diffs links these two releases: their changes cannot be listed",
    same: "Pick two different releases",
    loading: "Loading the releases…",
    tooFew: "Fewer than two releases are kept: nothing to compare",
    unavailable: "The list of releases could not be read",
    notKept: (id) => `Release ${id} is no longer kept: the default pair is shown`,
    hint: "Click a feature in the table to find it on the map",
  },
};
const tx = () => TEXT[lang()];

/** "2026-12-05 00:12 2026年第3批村庄规划入库 (current)" */
function releaseLabel(release, current) {
  const when = String(release.created || release.id).slice(0, 16).replace("T", " ");
  const note = release.note ? ` ${release.note}` : "";
  return `${when}${note}${release.id === current ? `（${tx().current}）` : ""}`;
}

function areaText(m2) {
  if (m2 == null || Math.abs(m2) < 1) return "";
  const ha = m2 / 10000;
  const unit = lang() === "zh" ? "公顷" : "ha";
  return `${ha > 0 ? "+" : "−"}${Math.abs(ha).toLocaleString(lang() === "zh" ? "zh-CN" : "en", { maximumFractionDigits: 2 })} ${unit}`;
}

function detailText(change) {
  const parts = Object.entries(change.fields || {})
    .slice(0, 2)
    .map(([field, [before, after]]) => `${field} ${before ?? "∅"}→${after ?? "∅"}`);
  const area = areaText(change.area_m2);
  if (area) parts.push(area);
  return parts.join("; ");
}

/** A swatch of a change's colour (set through the CSSOM: the page's CSP refuses style attributes). */
function kindSwatch(kind) {
  const swatch = el("i", { class: "swatch" });
  swatch.style.background = CHANGE_COLOURS[kind];
  return swatch;
}

function boundsOf(geometries) {
  let box = null;
  for (const geometry of geometries) {
    const [[w, s], [e, n]] = bbox(geometry);
    box = box ? [[Math.min(box[0][0], w), Math.min(box[0][1], s)], [Math.max(box[1][0], e), Math.max(box[1][1], n)]] : [[w, s], [e, n]];
  }
  return box;
}

export class Compare {
  /** `panel`: the compare tab; `view`: the element the two maps fill; `show` opens the tab;
   * `onChange` is told when the pair, the mode or the view changes (the permalink). */
  constructor(map, layerList, panel, view, { show, onChange }) {
    this.main = map;
    this.layers = layerList;
    this.panel = panel;
    this.view = view;
    this.show = show;
    this.onChange = onChange;
    this.list = null; // {current, releases, byId}
    this.pair = null; // [left id, right id]
    this.mode = "overlay";
    this.active = false;
    this.ready = false;
    this.changes = null; // what changesBetween found (null: not linked)
    this.message = null;
    this.selected = null; // the change last picked in the table
    this.maps = null; // {left, right} while comparing
    this.generation = 0; // the maps of an older pair are dropped when a newer one is asked for
    PHONE.addEventListener("change", () => this.swipe?.enable(!PHONE.matches));
    document.querySelector('#tabs button[data-tab="compare"]')?.addEventListener("click", () => this.load());
    this.render();
  }

  /** The list of kept releases, read once. */
  async load() {
    if (!this.list && !this.loading) {
      this.loading = loadReleases()
        .then((list) => {
          this.list = list;
          this.pair = this.pair || defaultPair(list);
          if (!this.pair) this.message = tx().tooFew;
        })
        .catch(() => {
          this.message = tx().unavailable;
        })
        .finally(() => this.render());
    }
    return this.loading;
  }

  /** Start comparing `pair` ([left id, right id]; the default pair when missing or not kept). */
  async open(pair = null, mode = null) {
    if (MODES.includes(mode)) this.mode = mode;
    await this.load();
    if (!this.list) return;
    if (pair) {
      const missing = pair.find((id) => !this.list.byId.has(id));
      if (missing) this.message = tx().notKept(missing);
      else this.pair = pair;
    }
    if (!this.pair) return this.render();
    this.active = true;
    await this.build();
  }

  close() {
    if (!this.active) return;
    const view = this.maps?.right;
    if (view) this.main.jumpTo({ center: view.getCenter(), zoom: view.getZoom() });
    this.teardown();
    this.active = false;
    this.ready = false;
    this.render();
    this.onChange?.();
  }

  async setPair(left, right) {
    this.pair = [left, right];
    this.message = null;
    this.selected = null;
    if (this.active) await this.build();
    else this.render();
  }

  setMode(mode) {
    this.mode = mode;
    if (this.maps) for (const map of Object.values(this.maps)) this.paint(map);
    this.render();
    this.onChange?.();
  }

  /** The map whose view the permalink keeps while comparing (null when not comparing). */
  viewMap() {
    return this.active ? this.maps?.right || null : null;
  }

  /** The permalink's part: compare=<left>,<right> and changes=<mode> when not the overlay. */
  hashParams() {
    if (!this.active || !this.pair) return {};
    return this.mode === "overlay" ? { compare: this.pair.join(",") } : { compare: this.pair.join(","), changes: this.mode };
  }

  teardown() {
    this.unsync?.();
    this.swipe?.remove();
    if (this.maps) for (const map of Object.values(this.maps)) map.remove();
    this.maps = null;
    this.swipe = null;
    this.view.hidden = true;
    document.body.classList.remove("comparing");
  }

  /** Both maps for the current pair, their overlay, and the changes between them. */
  async build() {
    const generation = ++this.generation;
    this.ready = false;
    const source = this.maps?.right || this.main;
    const camera = { center: source.getCenter(), zoom: source.getZoom() };
    const share = this.swipe?.share; // a new pair keeps the divider where it was
    this.teardown();
    const [leftId, rightId] = this.pair;
    const left = this.list.byId.get(leftId);
    const right = this.list.byId.get(rightId);
    this.changes = null;
    this.render();
    const found = leftId === rightId ? null : changesBetween(this.list, leftId, rightId).catch(() => null);

    const side = (release, name) => {
      const box = el("div", { class: `compare-map compare-${name}`, "data-release": release.id });
      box.append(el("div", { class: "compare-label" }, releaseLabel(release, this.list.current)));
      return box;
    };
    const leftBox = side(left, "left");
    const rightBox = side(right, "right");
    const divider = el(
      "div",
      { class: "compare-divider", role: "slider", tabindex: "0", "aria-orientation": "horizontal", "aria-valuemin": "0", "aria-valuemax": "100" },
      el("span", { class: "compare-handle" }),
    );
    this.view.replaceChildren(leftBox, rightBox, divider);
    this.view.hidden = false;
    document.body.classList.add("comparing");
    const maps = { left: newMap(leftBox, left.links.style, camera), right: newMap(rightBox, right.links.style, camera) };
    this.maps = maps;
    maps.right.addControl(zoomButtons(), "top-right");
    this.unsync = syncMaps(maps.left, maps.right);
    this.swipe = new Swipe(this.view, rightBox, divider, share ?? this.startShare());
    this.swipe.enable(!PHONE.matches);
    maps.right.on("moveend", () => this.onChange?.());
    for (const map of Object.values(maps)) map.on("click", (event) => this.pickAt(map, event.point));

    const [changes] = await Promise.all([found, ...Object.values(maps).map((map) => map.once("load"))]);
    if (generation !== this.generation) return;
    this.changes = changes;
    const sources = await this.overlaySources();
    if (generation !== this.generation) return;
    for (const map of Object.values(maps)) {
      this.addOverlay(map, sources);
      this.paint(map);
    }
    this.ready = true;
    this.render();
    this.onChange?.();
  }

  /** Where the divider starts: the middle of the part of the screen the side panel leaves. */
  startShare() {
    const width = this.view.getBoundingClientRect().width || 1;
    const panel = document.getElementById("sheet")?.getBoundingClientRect();
    const free = panel && panel.right < width / 2 ? panel.right : 0;
    return (free + (width - free) / 2) / width;
  }

  /** The releases whose `changes` tiles draw the pair's changes, each with a filter and colours
   * when it draws only some of them (pairs further apart than one release), and its tiles. */
  async overlaySources() {
    const right = this.list.byId.get(this.pair[1]);
    let sources;
    if (this.changes && !this.changes.adjacent) sources = this.stepSources();
    else if (this.changes || (this.pair[0] !== this.pair[1] && right.replaces === this.pair[0])) sources = [{ release: right, filter: null, colour: null }];
    else sources = [];
    const found = await Promise.all(
      sources.map(async (source) => {
        try {
          return { ...source, tilejson: await getJSON(source.release.links.tilejson) };
        } catch {
          return null;
        }
      }),
    );
    return found.filter(Boolean);
  }

  stepSources() {
    return this.changes.steps.map((release) => {
      const colours = {};
      for (const layer of this.changes.layers) {
        for (const change of layer.changes) {
          if (change.release === release.id) colours[`${change.layer}:${change.id}`] = CHANGE_COLOURS[change.kind];
        }
      }
      return { release, filter: ["has", KEY, ["literal", colours]], colour: ["get", KEY, ["literal", colours]] };
    });
  }

  addOverlay(map, sources) {
    const byKind = ["match", ["get", "kind"], "added", CHANGE_COLOURS.added, "removed", CHANGE_COLOURS.removed, CHANGE_COLOURS.changed];
    this.overlays = sources.map(({ tilejson, filter, colour }, i) => {
      const id = `${OVERLAY}-${i}`;
      // the tiles, not the TileJSON's URL: its vector_layers list the plan's layers only, and
      // MapLibre would call the `changes` layer missing (an archive built before there was one
      // simply draws nothing)
      const { tiles, minzoom, maxzoom, bounds } = tilejson;
      map.addSource(id, { type: "vector", tiles, minzoom, maxzoom, bounds });
      const paint = colour ? ["coalesce", colour, CHANGE_COLOURS.changed] : byKind;
      const only = (types) => {
        const shape = ["in", ["geometry-type"], ["literal", types]];
        return filter ? ["all", filter, shape] : shape;
      };
      const common = { source: id, "source-layer": CHANGES_LAYER, metadata: { "onemap:overlay": "changes" } };
      // the feature picked in the table: a halo under its outline, drawn even with the overlay
      // off (and so the tiles load for the table's flights)
      map.addLayer({ ...common, id: `${id}-selected`, type: "line", filter: ["==", KEY, ""], paint: { "line-color": "#00B8D4", "line-width": 9, "line-opacity": 0.8 } });
      map.addLayer({ ...common, id: `${id}-fill`, type: "fill", filter: only(["Polygon", "MultiPolygon"]), paint: { "fill-color": paint, "fill-opacity": 0.35 } });
      map.addLayer({ ...common, id: `${id}-line`, type: "line", filter: only(["Polygon", "MultiPolygon", "LineString", "MultiLineString"]), paint: { "line-color": paint, "line-width": 3 } });
      map.addLayer({
        ...common,
        id: `${id}-point`,
        type: "circle",
        filter: only(["Point", "MultiPoint"]),
        paint: { "circle-radius": 6, "circle-color": paint, "circle-stroke-color": "#fff", "circle-stroke-width": 2 },
      });
      return id;
    });
    this.select(this.selected);
  }

  /** Catalog layers as the layer list says (none in "changes only"); the overlay per the mode. */
  paint(map) {
    const visible = this.layers.visible;
    for (const layer of map.getStyle().layers) {
      const meta = layer.metadata || {};
      const catalogId = meta["onemap:layer"];
      let on;
      if (catalogId) on = this.mode !== "only" && visible.has(catalogId);
      else if (meta["onemap:overlay"] === "changes") on = this.mode !== "off" || layer.id.endsWith("-selected");
      else continue;
      map.setLayoutProperty(layer.id, "visibility", on ? "visible" : "none");
    }
  }

  /** The layer list changed: the same layers on both maps. */
  applyLayers() {
    if (this.maps && this.ready) for (const map of Object.values(this.maps)) this.paint(map);
  }

  select(change) {
    this.selected = change;
    const wanted = change ? `${change.layer}:${change.id}` : "";
    if (this.maps && this.ready) {
      for (const map of Object.values(this.maps)) {
        for (const id of this.overlays || []) map.setFilter(`${id}-selected`, ["==", KEY, wanted]);
      }
    }
    for (const row of this.panel.querySelectorAll("tr[data-key]")) row.classList.toggle("selected", row.dataset.key === wanted);
  }

  /** The bounds of `change`'s pieces in the tiles loaded now (null: none loaded). */
  boundsOf(change) {
    const map = this.maps?.right;
    if (!map) return null;
    const filter = ["all", ["==", ["get", "layer"], change.layer], ["==", ["to-string", ["get", "id"]], change.id]];
    const pieces = (this.overlays || []).flatMap((source) => map.querySourceFeatures(source, { sourceLayer: CHANGES_LAYER, filter }));
    return pieces.length ? boundsOf(pieces.map((f) => f.geometry)) : null;
  }

  /** Show `change` on the maps: its bounds from the tiles in view, else from its point in the
   * diff (go there, let the tiles load, then fit it). */
  async flyTo(change) {
    this.select(change);
    const map = this.maps?.right;
    if (!map) return;
    const padding = PHONE.matches ? 30 : { top: 60, bottom: 40, left: (document.getElementById("sheet")?.getBoundingClientRect().right || 0) + 30, right: 60 };
    let box = this.boundsOf(change);
    if (!box && change.lonlat) {
      map.jumpTo({ center: change.lonlat, zoom: Math.max(map.getZoom(), 14) });
      await map.once("idle");
      box = this.boundsOf(change);
    }
    if (box) {
      const moved = map.once("moveend");
      map.fitBounds(box, { padding, maxZoom: 16, duration: 600 });
      await Promise.race([moved, new Promise((resolve) => setTimeout(resolve, 2000))]);
    }
    this.flown = { layer: change.layer, id: change.id, bounds: box };
  }

  /** A click on either map: the changed features under it picked in the table. */
  pickAt(map, point) {
    const layers = (this.overlays || []).flatMap((id) => [`${id}-fill`, `${id}-line`, `${id}-point`]).filter((id) => map.getLayer(id));
    const [hit] = layers.length ? map.queryRenderedFeatures(point, { layers }) : [];
    if (!hit) return;
    const key = `${hit.properties.layer}:${hit.properties.id}`;
    const change = this.changes?.layers.flatMap((layer) => layer.changes).find((c) => `${c.layer}:${c.id}` === key);
    this.select(change || { layer: hit.properties.layer, id: String(hit.properties.id) });
    this.show?.();
    const row = this.panel.querySelector(`tr[data-key="${CSS.escape(key)}"]`);
    if (row) {
      row.closest("details").open = true;
      row.scrollIntoView({ block: "nearest" });
    }
  }

  render() {
    const t = tx();
    const root = el("div", { class: "compare-panel" });
    if (this.message) root.append(el("p", { class: "hint compare-message" }, this.message));
    if (!this.list) {
      if (!this.message) root.append(el("p", { class: "hint" }, t.loading));
      this.panel.replaceChildren(root);
      return;
    }
    if (this.pair) root.append(this.pickers(), this.controls());
    if (this.active) root.append(this.table());
    this.panel.replaceChildren(root);
  }

  pickers() {
    const t = tx();
    const picker = (name, index) => {
      const select = el("select", { id: `compare-${name}`, "data-side": name });
      for (const release of this.list.releases) {
        const option = el("option", { value: release.id }, releaseLabel(release, this.list.current));
        option.selected = release.id === this.pair[index];
        select.append(option);
      }
      select.addEventListener("change", () => {
        const pair = [...this.pair];
        pair[index] = select.value;
        this.setPair(...pair);
      });
      const summary = this.list.byId.get(this.pair[index])?.changes;
      return el("label", { class: "compare-pick" }, el("span", {}, t[name]), select, summary ? el("small", {}, summary) : null);
    };
    return el("div", { class: "compare-pickers" }, picker("left", 0), picker("right", 1));
  }

  controls() {
    const t = tx();
    const toggle = el("button", { type: "button", id: "compare-toggle", class: this.active ? "" : "primary" }, this.active ? t.stop : t.start);
    toggle.addEventListener("click", () => (this.active ? this.close() : this.open()));
    const modes = el("fieldset", { class: "compare-modes" }, el("legend", {}, t.changes));
    for (const mode of MODES) {
      const input = el("input", { type: "radio", name: "compare-mode", value: mode });
      input.checked = this.mode === mode;
      input.addEventListener("change", () => this.setMode(mode));
      modes.append(el("label", {}, input, t.modes[mode]));
    }
    const legend = el(
      "div",
      { class: "compare-legend" },
      ...Object.keys(CHANGE_COLOURS).map((kind) => el("span", { "data-kind": kind }, kindSwatch(kind), t.kinds[kind])),
    );
    return el("div", { class: "compare-controls" }, toggle, modes, legend);
  }

  table() {
    const t = tx();
    const box = el("div", { class: "compare-changes" });
    if (this.pair[0] === this.pair[1]) {
      box.append(el("p", { class: "hint" }, t.same));
      return box;
    }
    if (!this.ready) return box;
    if (!this.changes) {
      box.append(el("p", { class: "hint" }, t.unlinked));
      return box;
    }
    const counts = { added: 0, removed: 0, changed: 0 };
    for (const layer of this.changes.layers) for (const change of layer.changes) counts[change.kind] += 1;
    const total = counts.added + counts.removed + counts.changed;
    if (!total) {
      box.append(el("p", { class: "hint" }, t.none));
      return box;
    }
    box.append(el("p", { class: "compare-total" }, t.total(total, counts)));
    if (this.changes.steps.length > 1) box.append(el("p", { class: "hint" }, t.across(this.changes.steps.length)));
    if (this.changes.turned) box.append(el("p", { class: "hint" }, t.turned));
    box.append(el("p", { class: "hint" }, t.hint));
    for (const layer of this.changes.layers) {
      const rows = layer.changes.slice(0, MAX_ROWS).map((change) => {
        const key = `${change.layer}:${change.id}`;
        const row = el(
          "tr",
          { "data-key": key, "data-layer": change.layer, "data-id": change.id, "data-kind": change.kind, tabindex: "0", class: this.selected && key === `${this.selected.layer}:${this.selected.id}` ? "selected" : "" },
          el("td", {}, change.id),
          el("td", {}, kindSwatch(change.kind), t.kinds[change.kind]),
          el("td", {}, detailText(change)),
        );
        row.addEventListener("click", () => this.flyTo(change));
        row.addEventListener("keydown", (event) => event.key === "Enter" && this.flyTo(change));
        return row;
      });
      const head = el("tr", {}, el("th", {}, t.id), el("th", {}, t.kind), el("th", {}, t.detail));
      const details = el(
        "details",
        { class: "compare-layer", "data-layer": layer.id },
        el("summary", {}, pick(layer.title) || layer.id, el("span", { class: "count" }, ` ${layer.changes.length}`)),
        el("table", { class: "changes-table" }, head, ...rows),
      );
      details.open = layer.changes.length <= 50 || this.changes.layers.length === 1;
      if (layer.changes.length > MAX_ROWS) details.append(el("p", { class: "hint" }, t.more(layer.changes.length - MAX_ROWS)));
      box.append(details);
    }
    return box;
  }
}
