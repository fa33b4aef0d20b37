// The planning-map viewer: MapLibre GL JS on the release's style, everything from this server.
import "maplibre-gl/dist/maplibre-gl.css";
import "./viewer.css";
import * as maplibregl from "maplibre-gl";
import { Protocol } from "pmtiles";
import { audience, getJSON, paths, setToken, token, transformRequest } from "./api.js";
import { lang, setLang, t } from "./i18n.js";
import { InfoPanel, addHighlightLayers } from "./info.js";
import { LayerList } from "./layers.js";
import { readHash, writeHash } from "./permalink.js";
import { Search } from "./search.js";
import { SiteCheck } from "./sitecheck.js";

// CJK characters are drawn from a font of the device (no font download); the server's glyphs
// cover the rest (Latin, digits, punctuation).
const LOCAL_CJK_FONTS = "'Noto Sans CJK SC', 'Source Han Sans SC', 'PingFang SC', 'Microsoft YaHei', 'WenQuanYi Micro Hei', sans-serif";

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

async function login() {
  const dialog = $("#login");
  const error = $("#login-error");
  for (;;) {
    if (token()) {
      try {
        return await getJSON(paths.layers);
      } catch (e) {
        if (e.status !== 401 && e.status !== 404) throw e;
        setToken(null);
        error.hidden = false;
        error.textContent = t("loginFailed");
      }
    }
    dialog.showModal();
    await new Promise((resolve) => $("#login-form").addEventListener("submit", resolve, { once: true }));
    setToken($("#login-token").value.trim());
  }
}

async function start() {
  const initial = readHash();
  setLang(initial.lang || "zh");
  document.body.classList.add(`audience-${audience}`);
  const doc = audience === "internal" ? await login() : await getJSON(paths.layers);
  const titleKey = audience === "internal" ? "titleInternal" : "title";
  $("#title").dataset.i18n = titleKey;
  setLang(lang());
  document.title = t(titleKey);

  const options = {
    container: "map",
    style: new URL(paths.style, location.href).href,
    transformRequest,
    localIdeographFontFamily: LOCAL_CJK_FONTS,
    attributionControl: { compact: true },
    maxZoom: 18,
    dragRotate: false,
    pitchWithRotate: false,
  };
  if (initial.view) Object.assign(options, initial.view);
  else if (doc.bounds) {
    options.bounds = doc.bounds;
    const phone = matchMedia("(max-width: 480px)").matches;
    options.fitBoundsOptions = { padding: phone ? { top: 60, bottom: 100, left: 8, right: 8 } : { top: 20, bottom: 20, left: 340, right: 20 } };
  }
  const map = new maplibregl.Map(options);
  window.onemap = { map, ready: false, audience };
  map.touchZoomRotate.disableRotation();
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), "top-right");
  map.addControl(new maplibregl.GeolocateControl({ positionOptions: { enableHighAccuracy: true }, trackUserLocation: false }), "top-right");
  map.addControl(new maplibregl.ScaleControl({ unit: "metric", maxWidth: 120 }), "bottom-left");

  const show = sheet();
  await map.once("load");
  addHighlightLayers(map);
  let layers;
  const permalink = () => layers && writeHash(map, layers.visibleIds(), lang());
  layers = new LayerList(map, doc, $("#tab-layers"), permalink);
  if (initial.layers) layers.setVisible(initial.layers);
  else layers.render();
  const info = new InfoPanel(map, layers, $("#tab-info"), () => show("info"));
  const site = new SiteCheck(map, layers, $("#tab-check"), () => show("check"));
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
    permalink();
  });
  $("#lang").textContent = lang() === "zh" ? "EN" : "中文";
  permalink();
  window.onemap = { map, layers, info, site, ready: true, audience };
}

start().catch((error) => {
  console.error(error);
  const p = document.createElement("p");
  p.className = "fatal";
  p.textContent = String(error.message || error);
  document.body.append(p);
});
