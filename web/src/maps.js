// How the viewer's maps are made: the main map and the two maps of the compare mode share their
// options (the token on every request, CJK drawn from the device's fonts, no rotation).
import * as maplibregl from "maplibre-gl";
import { transformRequest } from "./api.js";

// CJK characters are drawn from a font of the device (no font download); the server's glyphs
// cover the rest (Latin, digits, punctuation).
const LOCAL_CJK_FONTS = "'Noto Sans CJK SC', 'Source Han Sans SC', 'PingFang SC', 'Microsoft YaHei', 'WenQuanYi Micro Hei', sans-serif";

/** A map in `container` drawing the style at `style` (a path of this server or a URL); `view`
 * holds MapLibre's camera options (center and zoom, or bounds). */
export function newMap(container, style, view = {}) {
  const map = new maplibregl.Map({
    container,
    style: new URL(style, location.href).href,
    transformRequest,
    localIdeographFontFamily: LOCAL_CJK_FONTS,
    attributionControl: { compact: true },
    maxZoom: 18,
    dragRotate: false,
    pitchWithRotate: false,
    ...view,
  });
  map.touchZoomRotate.disableRotation();
  return map;
}

/** Zoom buttons (no compass: the maps never rotate). */
export function zoomButtons() {
  return new maplibregl.NavigationControl({ showCompass: false });
}
