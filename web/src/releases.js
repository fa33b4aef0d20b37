// The kept releases (/releases; /internal/releases for staff, with the token) and what changed
// between two of them. Each release's diff lists the features it changed since the release it
// replaced (`replaces`); two releases further apart are linked by the chain of `replaces`, and
// the diffs along it are composed (added then removed is no change, added then changed is
// added, …). Picked the other way round (the newer one on the left), the kinds are turned over.
import { audience, getJSON } from "./api.js";

export const releasesPath = audience === "internal" ? "/internal/releases" : "/releases";

/** {current, releases (newest first), byId} */
export async function loadReleases() {
  const doc = await getJSON(releasesPath);
  const releases = doc.releases || [];
  return { current: doc.current, releases, byId: new Map(releases.map((r) => [r.id, r])) };
}

/** [left, right]: the current release on the right and, on the left, the one it replaced (else
 * the next older kept one); null with fewer than two releases. */
export function defaultPair(list) {
  const { releases, byId } = list;
  if (releases.length < 2) return null;
  const right = byId.get(list.current) || releases[0];
  const replaced = right.replaces && byId.get(right.replaces);
  const older = replaced || releases[releases.indexOf(right) + 1] || releases.find((r) => r !== right);
  return [older.id, right.id];
}

/** The releases after `older` up to `newer` along `replaces`, oldest first (each one's diff is a
 * step); null when `newer` does not descend from `older` through kept releases with diffs. */
export function chain(byId, older, newer) {
  const steps = [];
  let at = byId.get(newer);
  while (at && at.id !== older) {
    if (!at.links?.diff || !at.replaces || steps.length > byId.size) return null;
    steps.unshift(at);
    at = byId.get(at.replaces);
  }
  return at && steps.length ? steps : null;
}

const key = (layer, id) => `${layer}:${id}`;

const same = (a, b) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/** One feature's change after `earlier` (null: none before) and then `later`: the kind from the
 * first state to the last; null when the two cancel out (added then removed, or attributes
 * changed and changed back with the geometry untouched). */
export function combine(earlier, later) {
  if (!earlier) return later;
  const kinds = `${earlier.kind}>${later.kind}`;
  if (kinds === "added>removed") return null;
  const kind = earlier.kind === "added" ? "added" : later.kind === "removed" ? "removed" : "changed";
  const fields = { ...(earlier.fields || {}) };
  for (const [name, [, after]] of Object.entries(later.fields || {})) {
    fields[name] = [fields[name] ? fields[name][0] : later.fields[name][0], after];
    if (kind === "changed" && same(fields[name][0], after)) delete fields[name];
  }
  const geometry = Boolean(earlier.geometry || later.geometry);
  if (kinds === "changed>changed" && !geometry && !Object.keys(fields).length) return null;
  const area = (earlier.area_m2 ?? 0) + (later.area_m2 ?? 0);
  const code = earlier.code && later.code ? [earlier.code[0], later.code[1]] : later.code || earlier.code;
  // the geometry is drawn from the last release whose `changes` tiles hold it (a change of
  // attributes alone is not in the tiles)
  const release = later.geometry ? later.release : earlier.release;
  return { ...later, kind, fields, geometry, release, area_m2: earlier.area_m2 == null && later.area_m2 == null ? null : area, code };
}

/** The diffs of `steps` (oldest first) composed: {layers: [{id, title, geometry, changes}]},
 * each change {layer, id (text), kind, release (whose `changes` tiles hold its geometry),
 * fields, area_m2, code, lonlat}. */
export function compose(steps) {
  const found = new Map();
  const layers = new Map();
  for (const { release, diff } of steps) {
    for (const layer of diff.layers || []) {
      layers.set(layer.id, { id: layer.id, title: layer.title, geometry: layer.geometry });
      for (const change of layer.changes || []) {
        const k = key(layer.id, change.id);
        const next = combine(found.get(k), { ...change, id: String(change.id), layer: layer.id, release });
        if (next) found.set(k, next);
        else found.delete(k);
      }
    }
  }
  const byLayer = new Map([...layers.keys()].map((id) => [id, []]));
  for (const change of found.values()) byLayer.get(change.layer).push(change);
  return {
    layers: [...layers.values()]
      .map((layer) => ({ ...layer, changes: byLayer.get(layer.id) }))
      .filter((layer) => layer.changes.length),
  };
}

const TURNED = { added: "removed", removed: "added", changed: "changed" };

/** The same changes seen from the newer release back to the older one. */
export function turnOver(composed) {
  const back = (change) => ({
    ...change,
    kind: TURNED[change.kind],
    fields: Object.fromEntries(Object.entries(change.fields || {}).map(([f, [a, b]]) => [f, [b, a]])),
    area_m2: change.area_m2 == null ? null : -change.area_m2,
    code: change.code ? [change.code[1], change.code[0]] : change.code,
  });
  return { layers: composed.layers.map((layer) => ({ ...layer, changes: layer.changes.map(back) })) };
}

/** What changed from release `leftId` to `rightId`: {layers, steps (the releases whose `changes`
 * tiles draw them), adjacent, turned (the left one is the newer)}; null when no chain of diffs
 * links the two. */
export async function changesBetween(list, leftId, rightId) {
  const forward = chain(list.byId, leftId, rightId);
  const steps = forward || chain(list.byId, rightId, leftId);
  if (!steps) return null;
  const diffs = await Promise.all(steps.map(async (release) => ({ release: release.id, diff: await getJSON(release.links.diff) })));
  const composed = compose(diffs);
  return {
    ...(forward ? composed : turnOver(composed)),
    steps,
    adjacent: forward !== null && steps.length === 1,
    turned: forward === null,
  };
}
