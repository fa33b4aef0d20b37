// What the county map uses of MapLibre, loaded when the map comes into view. Named re-exports,
// not `import("maplibre-gl")`: a dynamic import keeps every export of the module it names (esbuild
// cannot tell which the page reads), so it kept all of MapLibre's controls, sources and handlers
// in the chunks the viewer loads too.
export { Map, NavigationControl, setWorkerUrl } from "maplibre-gl";
