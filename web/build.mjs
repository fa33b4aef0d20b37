// Bundles the viewer into publish/viewer/static/ (served by publish.server.viewer at /static/):
// index.html, app-<hash>.js and .css; the monitoring dashboard (publish.dashboard): dashboard.html,
// dashboard-<hash>.js and .css; MapLibre's worker, maplibre-gl-worker-<hash>.js; and the chunks
// they share (chunk-<hash>.js).
//
// MapLibre GL JS is bundled from its TypeScript sources (node_modules/maplibre-gl/src), not from
// its two prebuilt bundles (dist/maplibre-gl.mjs and dist/maplibre-gl-worker.mjs, which each carry
// the code both threads run: the style specification, geometry, protobuf, buckets…). Its own build
// (rolldown, see its build/readme.md) does little more: two entries, src/index.ts and
// src/source/worker.ts, the shaders already strings in src/shaders/glsl/*.g.ts, the version read
// from its package.json, TypeScript's assign semantics for class fields. Here the page, the
// dashboard and the worker are the entries of one build with code splitting, so the code the
// page and the worker share is one chunk, downloaded once: the worker (a module worker) imports
// the same hashed chunk, which the browser already holds. The dashboard loads MapLibre only when
// its county map comes into view (a dynamic import: chunks of their own).
//
// Each script and style sheet has its brotli twin (<name>.br). Every asset name carries its
// content hash (cached for a year); the pages are revalidated and name the chunks their script
// imports (modulepreload), so the browser fetches them at once instead of after the script.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { brotliCompressSync, constants } from "node:zlib";
import * as esbuild from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "publish", "viewer", "static");
const maplibre = join(here, "node_modules", "maplibre-gl");
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

// `maplibre-gl` (the package's export is dist/maplibre-gl.mjs) → its sources; its package.json,
// which it reads for the version only, → the version alone; each of its sources carries the
// licence banner its own build puts on its bundles (moved, once, into each output's .LEGAL.txt).
const maplibreSources = {
  name: "maplibre-sources",
  setup(build) {
    const { version } = JSON.parse(readFileSync(join(maplibre, "package.json"), "utf8"));
    const banner = `/*! MapLibre GL JS
 * @license 3-Clause BSD. Full text of license: https://github.com/maplibre/maplibre-gl-js/blob/v${version}/LICENSE.txt
 */
`;
    build.onResolve({ filter: /^maplibre-gl$/ }, () => ({ path: join(maplibre, "src", "index.ts") }));
    build.onLoad({ filter: /[\\/]maplibre-gl[\\/]src[\\/].*\.ts$/ }, ({ path }) => ({
      contents: banner + (leftOut(path) ?? readFileSync(path, "utf8")),
      loader: "ts",
    }));
    build.onLoad({ filter: /[\\/]maplibre-gl[\\/]package\.json$/ }, () => ({
      contents: JSON.stringify({ version }),
      loader: "json",
    }));
  },
};

// What the viewer never runs, left out of MapLibre: the decoder of MapLibre Tiles (MLT; our
// tiles are MVT) and the shaders of what our styles (publish/styles: background, fill, line,
// circle and text symbols on vector and GeoJSON sources, Mercator) never draw — heatmaps, hillshade,
// colour relief, extrusions, rasters, terrain, the globe and its atmosphere, patterns, gradients,
// icons and the debug overlays (not the sky: MapLibre draws it in every frame). A left-out shader
// is an empty string (never compiled); MLT throws.
const LEFT_OUT_SHADERS = new Set([
  "heatmap", "heatmap_texture", "color_relief", "hillshade", "hillshade_prepare", "fill_extrusion",
  "fill_extrusion_pattern", "raster", "terrain", "terrain_depth", "terrain_height",
  "_projection_globe", "atmosphere", "background_pattern", "fill_pattern",
  "fill_outline_pattern", "line_pattern", "line_gradient", "line_gradient_sdf", "symbol_icon",
  "symbol_text_and_icon", "collision_box", "collision_circle", "debug",
]);
// The code behind those shaders goes too: the style layers of the types our styles never use
// (createStyleLayer knows only the drawn ones and names any other), their draw functions, the
// raster, raster-dem, image, video and canvas sources, the terrain (set only by a style's
// `terrain` or setTerrain) and its render-to-texture, the collision boxes' debug drawing (its
// shaders are out already) and the `hash` option (the viewer keeps its own permalink). Each
// left-out module keeps its exports: a function or class that throws, naming what was left out,
// and its one-line constants as they are (the style layers' type guards, which other code
// calls), so nothing the viewer runs changes.
const KEPT_LAYER_TYPES = ["background", "circle", "fill", "line", "symbol", "custom"];
const LEFT_OUT_MODULES = new Set([
  "webgl/draw/draw_heatmap", "webgl/draw/draw_hillshade", "webgl/draw/draw_color_relief",
  "webgl/draw/draw_fill_extrusion", "webgl/draw/draw_raster", "source/raster_tile_source",
  "source/raster_dem_tile_source", "source/image_source", "source/video_source",
  "source/canvas_source", "render/terrain", "style/style_layer/heatmap_style_layer",
  "style/style_layer/hillshade_style_layer", "style/style_layer/color_relief_style_layer",
  "style/style_layer/fill_extrusion_style_layer", "style/style_layer/raster_style_layer",
  "webgl/render_to_texture", "webgl/draw/draw_collision_debug", "ui/hash",
]);
function createStyleLayerModule() {
  const cls = (type) => `${type.replace(/(^|_)(\w)/g, (_, __, c) => c.toUpperCase())}StyleLayer`;
  const imports = KEPT_LAYER_TYPES.map(
    (t) => `import {${cls(t)}} from './style_layer/${t}_style_layer.ts';`,
  );
  const cases = KEPT_LAYER_TYPES.map(
    (t) => `    case '${t}': return new ${cls(t)}(layer, globalState);`,
  );
  return `${imports.join("\n")}
export function createStyleLayer(layer: any, globalState: Record<string, any>): any {
  switch (layer.type) {
${cases.join("\n")}
  }
  throw new Error(\`style layers of type \${layer.type} are left out of this viewer\`);
}
`;
}
function stubModule(source, name) {
  const stubs = [];
  for (const [line, kind, id] of source.matchAll(/^export (function|class|const) (\w+).*$/gm)) {
    const body = `throw new Error("${id} (${name}) is left out of this viewer");`;
    if (kind === "const" && !line.endsWith(";")) throw new Error(`${name}: ${id} is not one line`);
    if (kind === "const") stubs.push(line);
    else if (kind === "class") stubs.push(`export class ${id} { constructor() { ${body} } }`);
    else stubs.push(`export function ${id}(): never { ${body} }`);
  }
  return `${stubs.join("\n")}\n`;
}
function leftOut(path) {
  const shader = /[\\/]shaders[\\/]glsl[\\/](\w+)\.(?:vertex|fragment)\.glsl\.g\.ts$/.exec(path);
  if (shader && LEFT_OUT_SHADERS.has(shader[1])) return "export default '';\n";
  const module = /[\\/]maplibre-gl[\\/]src[\\/](.+)\.ts$/.exec(path)?.[1].replaceAll("\\", "/");
  if (module === "style/create_style_layer") return createStyleLayerModule();
  if (LEFT_OUT_MODULES.has(module)) return stubModule(readFileSync(path, "utf8"), module);
  if (/[\\/]source[\\/]vector_tile_mlt\.ts$/.test(path)) {
    return `export class MLTVectorTile {
  layers = {};
  constructor() { throw new Error("MapLibre Tiles (MLT) are left out of this viewer: its tiles are MVT"); }
}
`;
  }
  return null;
}

const result = await esbuild.build({
  entryPoints: {
    app: join(here, "src", "main.js"),
    dashboard: join(here, "src", "dashboard", "main.js"),
    "maplibre-gl-worker": join(maplibre, "src", "source", "worker.ts"),
  },
  bundle: true,
  splitting: true,
  format: "esm",
  target: ["es2022"],
  minify: true,
  sourcemap: false,
  legalComments: "linked",
  outdir: out,
  entryNames: "[name]-[hash]",
  chunkNames: "chunk-[hash]",
  metafile: true,
  loader: { ".svg": "dataurl" },
  // MapLibre's sources are written for TypeScript's assign semantics (a field declared in a
  // subclass does not reset what the base class's constructor set), as its own build compiles them
  tsconfigRaw: { compilerOptions: { useDefineForClassFields: false } },
  plugins: [maplibreSources],
  logLevel: "warning",
});

// METAFILE=path writes esbuild's account of what went into each output (for size studies)
if (process.env.METAFILE) writeFileSync(process.env.METAFILE, JSON.stringify(result.metafile));
const outputs = result.metafile.outputs;
const named = (pattern) => basename(Object.keys(outputs).find((p) => pattern.test(basename(p))));
const worker = named(/^maplibre-gl-worker-.*\.js$/);

/** The chunks the output `name` imports statically, and theirs (what it needs before it runs). */
function staticChunks(name, seen = new Set()) {
  const entry = Object.entries(outputs).find(([p]) => basename(p) === name)[1];
  for (const { path, kind } of entry.imports) {
    if (kind === "import-statement" && !seen.has(basename(path))) {
      seen.add(basename(path));
      staticChunks(basename(path), seen);
    }
  }
  return [...seen];
}

const login = readFileSync(join(here, "src", "login.html"), "utf8").replace(/^<!--.*-->\n/, "");

/** The page `source` (web/src/…) with its script, style sheet, preloaded chunks and worker. */
function page(source, target, entry) {
  const js = named(new RegExp(`^${entry}-.*\\.js$`));
  const css = named(new RegExp(`^${entry}-.*\\.css$`));
  const preload = staticChunks(js)
    .map((chunk) => `<link rel="modulepreload" href="/static/${chunk}">`)
    .join("\n");
  const html = readFileSync(join(here, "src", source), "utf8")
    .replaceAll("{{LOGIN}}", login)
    .replaceAll("{{APP_JS}}", `/static/${js}`)
    .replaceAll("{{APP_CSS}}", `/static/${css}`)
    .replaceAll("{{PRELOAD}}", preload)
    .replaceAll("{{WORKER}}", `/static/${worker}`);
  writeFileSync(join(out, target), html);
  return js;
}
const appJs = page("index.html", "index.html", "app");
const dashJs = page(join("dashboard", "dashboard.html"), "dashboard.html", "dashboard");

// A brotli twin of each script and style sheet (<name>.br), sent to clients that accept brotli
// (publish/server/viewer.py): at quality 11 about 17 % smaller than gzip, computed once here.
const assets = Object.keys(outputs).map((p) => basename(p)).filter((n) => /\.(js|css)$/.test(n));
for (const name of assets) {
  const raw = readFileSync(join(out, name));
  const params = { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: raw.length };
  writeFileSync(join(out, `${name}.br`), brotliCompressSync(raw, { params }));
}
console.log(`viewer built into ${out}: ${appJs}, ${dashJs}, ${worker}; ${assets.length} scripts and style sheets`);
