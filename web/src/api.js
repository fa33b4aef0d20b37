// The server this page came from, the audience the path names, and the token of the internal
// viewer: sent as a Bearer header with every request to this server (never to another host).
export const audience = location.pathname.startsWith("/internal") ? "internal" : "public";
export const origin = location.origin;
const TOKEN_KEY = "onemap-token";

export function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(value) {
  if (value) sessionStorage.setItem(TOKEN_KEY, value);
  else sessionStorage.removeItem(TOKEN_KEY);
}

function sameOrigin(url) {
  try {
    return new URL(url, origin).origin === origin;
  } catch {
    return false;
  }
}

export function authHeaders(url) {
  const value = audience === "internal" ? token() : null;
  return value && sameOrigin(url) ? { Authorization: `Bearer ${value}` } : {};
}

/** MapLibre's transformRequest: the token on every request to this server. */
export function transformRequest(url) {
  const headers = authHeaders(url);
  return Object.keys(headers).length ? { url, headers } : { url };
}

export async function getJSON(path, init = {}) {
  const url = new URL(path, origin).href;
  const response = await fetch(url, { ...init, headers: { ...authHeaders(url), ...(init.headers || {}) } });
  if (!response.ok) {
    const error = new Error(`${response.status} ${path}`);
    error.status = response.status;
    try {
      error.body = await response.json();
    } catch {
      /* not JSON */
    }
    throw error;
  }
  return response.json();
}

export const paths = {
  style: `/styles/${audience}.json`,
  layers: `/styles/${audience}/layers.json`,
  ogc: audience === "internal" ? "/internal/ogc" : "/ogc",
};
