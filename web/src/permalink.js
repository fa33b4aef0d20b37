// The permalink: position, visible layers, language and the compared releases in the URL's hash,
// e.g. #map=12.50/29.12900/110.48000&layers=ghfq,stbhhx&lang=en&compare=<left id>,<right id>
// (&changes=only|off when the compare mode's changes are not overlaid).
export function readHash() {
  const params = new URLSearchParams(location.hash.slice(1));
  const out = {};
  const map = params.get("map");
  if (map) {
    const [zoom, lat, lng] = map.split("/").map(Number);
    if ([zoom, lat, lng].every(Number.isFinite)) out.view = { zoom, center: [lng, lat] };
  }
  if (params.has("layers")) out.layers = params.get("layers").split(",").filter(Boolean);
  if (params.get("lang")) out.lang = params.get("lang");
  const pair = (params.get("compare") || "").split(",").filter(Boolean);
  if (pair.length === 2) out.compare = pair;
  if (params.get("changes")) out.changes = params.get("changes");
  return out;
}

/** `extra`: more parameters, in order (the compare mode's). */
export function writeHash(map, layers, lang, extra = {}) {
  const c = map.getCenter();
  const params = new URLSearchParams();
  params.set("map", `${map.getZoom().toFixed(2)}/${c.lat.toFixed(5)}/${c.lng.toFixed(5)}`);
  params.set("layers", layers.join(","));
  if (lang !== "zh") params.set("lang", lang);
  for (const [name, value] of Object.entries(extra)) params.set(name, value);
  const hash = `#${params.toString().replaceAll("%2F", "/").replaceAll("%2C", ",")}`;
  if (hash !== location.hash) history.replaceState(null, "", hash);
}
