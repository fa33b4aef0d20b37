// The county map: the release's own tiles (the versioned URLs its TileJSON names,
// /releases/{id}/tiles/{audience}/…), the admin layers' county features coloured by a match
// expression on XZQDM for the chosen indicator — by value (a sequential ramp) or by status.
// MapLibre is loaded when the map comes into view: it is not part of the dashboard's first view.
import { audience, getJSON, transformRequest } from "../api.js";
import { pick, t } from "../i18n.js";
import { el } from "./cards.js";
import { STATUS_COLOURS, formatNumber, statusText } from "./model.js";

// Tiles read for the map: county outlines at the city's extent need no more than z5 (overzoomed).
const COUNTY_TILE_ZOOM = 5;
const RAMP = ["#eff3ff", "#bdd7e7", "#6baed6", "#3182bd", "#08519c"];
const NONE = "rgba(0,0,0,0)";

/** Quantile classes: each county's colour by its rank among the counties' values (a few
 * counties of very different size would otherwise share one shade). */
function rampColours(values) {
  const known = values.filter((v) => v !== null && v !== undefined).sort((a, b) => a - b);
  return values.map((v) => {
    if (v === null || v === undefined) return STATUS_COLOURS.null;
    const rank = known.length > 1 ? known.indexOf(v) / (known.length - 1) : 0.5;
    return RAMP[Math.round(rank * (RAMP.length - 1))];
  });
}

export class CountyMap {
  constructor(container, legend, data) {
    this.container = container;
    this.legend = legend;
    this.data = data;
    this.map = null;
    this.ready = false; // the map's style has loaded: paint properties can be set from then on
    this.adminLayers = [];
    this.indicator = data.indicators[0]?.id;
    this.mode = "value";
    this.year = null;
    this.loading = null;
  }

  /** Load MapLibre and the map once the container is (nearly) in view. */
  whenVisible() {
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) {
        observer.disconnect();
        this.load();
      }
    });
    observer.observe(this.container);
  }

  load() {
    this.loading ??= this._load();
    return this.loading;
  }

  async _load() {
    const [maplibregl, tilejson, layers] = await Promise.all([
      import("./maplibre.js"),
      getJSON(`/tiles/${audience}.json`),
      getJSON(`/styles/${audience}/layers.json`),
    ]);
    const worker = document.querySelector("meta[name=onemap-worker]").content;
    maplibregl.setWorkerUrl(new URL(worker, location.href).href);
    this.adminLayers = [...new Set(layers.layers.filter((l) => l.role === "admin").map((l) => l.layer))];
    const codes = this.data.counties.map((c) => c.code);
    const inCounties = ["in", ["to-string", ["get", "XZQDM"]], ["literal", codes]];
    const style = {
      version: 8,
      sources: {
        plan: {
          type: "vector",
          tiles: tilejson.tiles,
          minzoom: tilejson.minzoom ?? 0,
          maxzoom: Math.max(tilejson.minzoom ?? 0, COUNTY_TILE_ZOOM),
          bounds: tilejson.bounds,
        },
      },
      layers: [
        { id: "background", type: "background", paint: { "background-color": "#f4f3ee" } },
        ...this.adminLayers.flatMap((layer) => [
          { id: `fill-${layer}`, type: "fill", source: "plan", "source-layer": layer, filter: inCounties, paint: { "fill-color": NONE } },
          { id: `line-${layer}`, type: "line", source: "plan", "source-layer": layer, filter: inCounties, paint: { "line-color": "#444", "line-width": 1.2 } },
        ]),
      ],
    };
    this.map = new maplibregl.Map({
      container: this.container,
      style,
      transformRequest,
      bounds: tilejson.bounds,
      fitBoundsOptions: { padding: 12 },
      attributionControl: false,
      dragRotate: false,
      pitchWithRotate: false,
      maxZoom: 12,
    });
    this.map.touchZoomRotate.disableRotation();
    this.map.addControl(new maplibregl.NavigationControl({ showCompass: false }), "top-right");
    await this.map.once("load");
    this.ready = true;
    this.render();
  }

  /** Colour the counties for `indicator` (by value or status in `year`) and list the legend. */
  update({ indicator, mode, year } = {}) {
    if (indicator) this.indicator = indicator;
    if (mode) this.mode = mode;
    if (year !== undefined) this.year = year;
    this.render();
  }

  colours() {
    const indicator = this.data.indicators.find((i) => i.id === this.indicator);
    const rows = this.data.counties.map((county) => {
      const result = this.data.result(this.indicator, county);
      return { county, value: result?.value ?? null, status: this.data.status(result, this.year) };
    });
    const ramp = rampColours(rows.map((r) => r.value));
    rows.forEach((row, i) => {
      row.colour = this.mode === "status" ? STATUS_COLOURS[row.status] : ramp[i];
    });
    return { indicator, rows };
  }

  render() {
    if (!this.indicator) return;
    const { indicator, rows } = this.colours();
    this.legend.replaceChildren(
      ...rows.map((row) => {
        const item = el("li", "legend-item");
        item.dataset.code = row.county.code;
        item.dataset.colour = row.colour;
        const text = `${row.county.name} ${formatNumber(row.value)} ${indicator?.unit || ""}`;
        item.append(el("i", "swatch"), el("span", "", this.mode === "status" ? `${text} · ${statusText(row.status)}` : text));
        item.firstChild.style.background = row.colour;
        return item;
      }),
    );
    this.legend.setAttribute("aria-label", `${pick(indicator?.name)} ${t(this.mode === "status" ? "byStatus" : "byValue")}`);
    // not isStyleLoaded(): it is false while tiles reload after the previous colour change, and
    // a second change made then (another indicator, then "by status") was left off the map
    if (!this.map || !this.ready) return;
    const match = ["match", ["to-string", ["get", "XZQDM"]]];
    for (const row of rows) match.push(row.county.code, row.colour);
    match.push(NONE);
    for (const layer of this.adminLayers) this.map.setPaintProperty(`fill-${layer}`, "fill-color", rows.length ? match : NONE);
  }
}
