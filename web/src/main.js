// The planning-map viewer: MapLibre GL JS on the release's style, everything from this server.
import "maplibre-gl/dist/maplibre-gl.css";
import "./viewer.css";
import * as maplibregl from "maplibre-gl";
import { Protocol } from "pmtiles";
import { audience, getJSON, paths } from "./api.js";
import { Compare } from "./compare.js";
import { lang, setLang, t } from "./i18n.js";
import { InfoPanel, addHighlightLayers } from "./info.js";
import { LayerList } from "./layers.js";
import { login } from "./login.js";
import { newMap, zoomButtons } from "./maps.js";
import { readHash, writeHash } from "./permalink.js";
import { Search } from "./search.js";
import { SiteCheck } from "./sitecheck.js";

maplibregl.setWorkerUrl(new URL(document.querySelector("meta[name=onemap-worker]").content, location.href).href);
// pmtiles:// sources: the served styles use the server's tiles (TileJSON), but a style may name an
// archive itself (pmtiles:///tiles/public.pmtiles, read by HTTP ranges), e.g. for a static copy.
maplibregl.addProtocol("pmtiles", new Protocol().tile);

const $ = (selector) => document.querySelector(selector);

function sheet() {
  const el = $("#sheet");
  const tabs = [...document.querySelectorAll("#tabs button")];
  const show = (name, expand = true) => {
    for (const b of tabs) b.classList.toggle("active", b.dataset.tab === name);
    for (const s of document.querySelectorAll(".tab")) s.classList.toggle("active", s.id === `tab-${name}`);
    if (expand) el.classList.remove("collapsed");
  };
  for (const b of tabs) b.addEventListener("click", () => show(b.dataset.tab));
  $("#sheet-handle").addEventListener("click", () => el.classList.toggle("collapsed"));
  return show;
}

async function start() {
  const initial = readHash();
  setLang(initial.lang || "zh");
  document.body.classList.add(`audience-${audience}`);
  const doc = audience === "internal" ? await login(() => getJSON(paths.layers)) : await getJSON(paths.layers);
  const titleKey = audience === "internal" ? "titleInternal" : "title";
  $("#title").dataset.i18n = titleKey;
  setLang(lang());
  document.title = t(titleKey);

  const view = {};
  if (initial.view) Object.assign(view, initial.view);
  else if (doc.bounds) {
    view.bounds = doc.bounds;
    const phone = matchMedia("(max-width: 480px)").matches;
    view.fitBoundsOptions = { padding: phone ? { top: 60, bottom: 100, left: 8, right: 8 } : { top: 20, bottom: 20, left: 340, right: 20 } };
  }
  const map = newMap("map", paths.style, view);
  window.onemap = { map, ready: false, audience };
  map.addControl(zoomButtons(), "top-right");
  map.addControl(new maplibregl.GeolocateControl({ positionOptions: { enableHighAccuracy: true }, trackUserLocation: false }), "top-right");
  map.addControl(new maplibregl.ScaleControl({ unit: "metric", maxWidth: 120 }), "bottom-left");

  const show = sheet();
  await map.once("load");
  addHighlightLayers(map);
  let layers;
  let compare;
  const permalink = () => layers && writeHash(compare?.viewMap() || map, layers.visibleIds(), lang(), compare?.hashParams());
  layers = new LayerList(map, doc, $("#tab-layers"), () => {
    compare?.applyLayers();
    permalink();
  });
  if (initial.layers) layers.setVisible(initial.layers);
  else layers.render();
  const info = new InfoPanel(map, layers, $("#tab-info"), () => show("info"));
  const site = new SiteCheck(map, layers, $("#tab-check"), () => show("check"));
  compare = new Compare(map, layers, $("#tab-compare"), $("#compare"), { show: () => show("compare"), onChange: permalink });
  map.on("click", (event) => {
    if (site.handleClick(event)) return;
    info.open(info.featuresAt(event.point));
  });
  new Search(map, layers, $("#search"), (feature) => {
    info.open([feature], true);
  });
  map.on("moveend", permalink);
  $("#lang").addEventListener("click", () => {
    setLang(lang() === "zh" ? "en" : "zh");
    $("#lang").textContent = lang() === "zh" ? "EN" : "中文";
    document.title = t(titleKey);
    layers.render();
    info.render();
    site.render();
    compare.render();
    permalink();
  });
  $("#lang").textContent = lang() === "zh" ? "EN" : "中文";
  $("#dashboard-link").href = audience === "internal" ? "/internal/dashboard" : "/dashboard";
  permalink();
  window.onemap = { map, layers, info, site, compare, ready: true, audience };
  if (initial.compare) {
    show("compare", !matchMedia("(max-width: 480px)").matches);
    await compare.open(initial.compare, initial.changes);
  }
}

start().catch((error) => {
  console.error(error);
  const p = document.createElement("p");
  p.className = "fatal";
  p.textContent = String(error.message || error);
  document.body.append(p);
});
