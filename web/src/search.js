// Search by village, township or place name, served from the OGC API: the names of every layer
// with a name field are fetched once (names only, no geometry), matched here as the user types,
// and the chosen feature is fetched (with its geometry) to fly to it.
import { getJSON, paths } from "./api.js";
import { pick, t } from "./i18n.js";

const MAX_RESULTS = 10;
const SEARCH_ROLES = new Set(["admin", "other", "red_line"]);

export class Search {
  constructor(map, layerList, form, onPick) {
    this.map = map;
    this.layers = layerList;
    this.input = form.querySelector("input");
    this.list = form.querySelector("ul");
    this.onPick = onPick;
    this.index = null;
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const first = this.list.querySelector("li[data-id]");
      if (first) first.click();
    });
    this.input.addEventListener("focus", () => this.load());
    this.input.addEventListener("input", () => this.update());
    this.input.addEventListener("keydown", (event) => {
      if (event.key === "Escape") this.close();
    });
  }

  searchable() {
    return this.layers.items.filter((item) => item.name_field && SEARCH_ROLES.has(item.role));
  }

  load() {
    if (!this.index) {
      this.index = Promise.all(
        this.searchable().map(async (item) => {
          const url =
            `${paths.ogc}/collections/${encodeURIComponent(item.layer)}/items?f=json&limit=10000` +
            `&skipGeometry=true&properties=${encodeURIComponent(item.name_field)}`;
          try {
            const doc = await getJSON(url);
            return doc.features
              .map((f) => ({ layer: item.layer, id: f.id, name: String(f.properties[item.name_field] ?? "") }))
              .filter((entry) => entry.name);
          } catch {
            return [];
          }
        }),
      ).then((lists) => lists.flat());
    }
    return this.index;
  }

  async update() {
    const query = this.input.value.trim().toLowerCase();
    if (!query) return this.close();
    this.list.hidden = false;
    if (!this.list.children.length) this.message(t("searching"));
    const entries = await this.load();
    if (this.input.value.trim().toLowerCase() !== query) return;
    const rank = (name) => (name.toLowerCase() === query ? 0 : name.toLowerCase().startsWith(query) ? 1 : 2);
    const hits = entries
      .filter((entry) => entry.name.toLowerCase().includes(query))
      .sort((a, b) => rank(a.name) - rank(b.name) || a.name.length - b.name.length)
      .slice(0, MAX_RESULTS);
    if (!hits.length) return this.message(t("noResults"));
    this.list.replaceChildren(
      ...hits.map((hit) => {
        const li = document.createElement("li");
        li.setAttribute("role", "option");
        li.dataset.id = hit.id;
        li.dataset.layer = hit.layer;
        const name = document.createElement("strong");
        name.textContent = hit.name;
        const where = document.createElement("small");
        where.textContent = pick(this.layers.byId.get(hit.layer)?.title);
        li.append(name, where);
        li.addEventListener("click", () => this.pick(hit));
        return li;
      }),
    );
  }

  message(text) {
    const li = document.createElement("li");
    li.className = "message";
    li.textContent = text;
    this.list.replaceChildren(li);
  }

  close() {
    this.list.hidden = true;
    this.list.replaceChildren();
  }

  async pick(hit) {
    this.close();
    this.input.value = hit.name;
    this.input.blur();
    const feature = await getJSON(`${paths.ogc}/collections/${encodeURIComponent(hit.layer)}/items/${hit.id}?f=json`);
    const geometry = feature.geometry;
    if (!geometry) return;
    const [[west, south], [east, north]] = bbox(geometry);
    if (east - west < 1e-9 && north - south < 1e-9) {
      // a point (or a multipoint of one): fly there
      this.map.flyTo({ center: [west, south], zoom: Math.max(this.map.getZoom(), 14) });
    } else {
      this.map.fitBounds(bbox(geometry), { padding: 40, maxZoom: 15 });
    }
    this.onPick?.({ layer: hit.layer, id: hit.id, properties: feature.properties, geometry });
  }
}

export function bbox(geometry) {
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  const walk = (coords) => {
    if (typeof coords[0] === "number") {
      minX = Math.min(minX, coords[0]);
      maxX = Math.max(maxX, coords[0]);
      minY = Math.min(minY, coords[1]);
      maxY = Math.max(maxY, coords[1]);
    } else coords.forEach(walk);
  };
  walk(geometry.coordinates);
  return [
    [minX, minY],
    [maxX, maxY],
  ];
}
