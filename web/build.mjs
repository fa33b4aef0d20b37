// Bundles the viewer into publish/viewer/static/ (served by publish.server.viewer at /static/):
// index.html, app-<hash>.js, app-<hash>.css and MapLibre's worker as maplibre-gl-worker-<hash>.mjs;
// and the monitoring dashboard (publish.dashboard): dashboard.html, dashboard-<hash>.js and .css,
// with MapLibre in a chunk of its own that the dashboard loads when its map comes into view.
// Each script and style sheet has its brotli twin (<name>.br).
// Every asset name carries its content hash (cached for a year); the pages are revalidated.
import { createHash } from "node:crypto";
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { brotliCompressSync, constants } from "node:zlib";
import * as esbuild from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "publish", "viewer", "static");
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

const options = {
  bundle: true,
  format: "esm",
  target: ["es2022"],
  minify: true,
  sourcemap: false,
  legalComments: "linked",
  outdir: out,
  metafile: true,
  loader: { ".svg": "dataurl" },
  logLevel: "warning",
};
const result = await esbuild.build({
  ...options,
  entryPoints: { app: join(here, "src", "main.js") },
  entryNames: "[name]-[hash]",
});
const dashboard = await esbuild.build({
  ...options,
  entryPoints: { dashboard: join(here, "src", "dashboard", "main.js") },
  entryNames: "[name]-[hash]",
  chunkNames: "chunk-[hash]",
  splitting: true,
});

const outputs = Object.keys(result.metafile.outputs).map((p) => basename(p));
const appJs = outputs.find((n) => /^app-.*\.js$/.test(n));
const appCss = outputs.find((n) => /^app-.*\.css$/.test(n));

const workerSrc = join(here, "node_modules", "maplibre-gl", "dist", "maplibre-gl-worker.mjs");
const workerHash = createHash("sha256").update(readFileSync(workerSrc)).digest("hex").slice(0, 8).toUpperCase();
const worker = `maplibre-gl-worker-${workerHash}.mjs`;
copyFileSync(workerSrc, join(out, worker));

const login = readFileSync(join(here, "src", "login.html"), "utf8").replace(/^<!--.*-->\n/, "");
const page = readFileSync(join(here, "src", "index.html"), "utf8")
  .replaceAll("{{LOGIN}}", login)
  .replaceAll("{{APP_JS}}", `/static/${appJs}`)
  .replaceAll("{{APP_CSS}}", `/static/${appCss}`)
  .replaceAll("{{WORKER}}", `/static/${worker}`);
writeFileSync(join(out, "index.html"), page);

// A brotli twin of each script and style sheet (<name>.br), sent to clients that accept brotli
// (publish/server/viewer.py): at quality 11 about 17 % smaller than gzip, computed once here.
function brotliTwins(names) {
  for (const name of names) {
    const raw = readFileSync(join(out, name));
    const params = { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: raw.length };
    writeFileSync(join(out, `${name}.br`), brotliCompressSync(raw, { params }));
  }
}
brotliTwins([appJs, appCss, worker]);
console.log(`viewer built into ${out}: ${appJs}, ${appCss}, ${worker}`);

const dashboardOutputs = Object.keys(dashboard.metafile.outputs).map((p) => basename(p));
const dashJs = dashboardOutputs.find((n) => /^dashboard-.*\.js$/.test(n));
const dashCss = dashboardOutputs.find((n) => /^dashboard-.*\.css$/.test(n));
const dashPage = readFileSync(join(here, "src", "dashboard", "dashboard.html"), "utf8")
  .replaceAll("{{LOGIN}}", login)
  .replaceAll("{{APP_JS}}", `/static/${dashJs}`)
  .replaceAll("{{APP_CSS}}", `/static/${dashCss}`)
  .replaceAll("{{WORKER}}", `/static/${worker}`);
writeFileSync(join(out, "dashboard.html"), dashPage);
brotliTwins(dashboardOutputs.filter((n) => /\.(js|css)$/.test(n)));
console.log(`dashboard built: ${dashJs}, ${dashCss}`);
