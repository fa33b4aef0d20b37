// UI strings in Chinese and English; the language is part of the permalink (lang=en).
const STRINGS = {
  zh: {
    title: "国土空间规划一张图",
    titleInternal: "国土空间规划一张图（内部版）",
    search: "搜索村庄、乡镇、地名",
    layers: "图层",
    info: "要素信息",
    check: "选址检查",
    compare: "版本对比",
    clickHint: "点击地图上的要素查看属性",
    noResults: "没有找到",
    loginTitle: "内部版：请输入访问令牌",
    loginButton: "进入",
    loginFailed: "令牌无效",
    area: "面积",
    hectares: "公顷",
    other: "其他",
    layer: "图层",
    searching: "正在加载地名…",
    dashboard: "监测评估",
  },
  en: {
    title: "Territorial spatial plan One Map",
    titleInternal: "Territorial spatial plan One Map (staff)",
    search: "Search villages, townships, places",
    layers: "Layers",
    info: "Feature",
    check: "Site check",
    compare: "Compare",
    clickHint: "Click a feature on the map to see its attributes",
    noResults: "Nothing found",
    loginTitle: "Staff map: enter your access token",
    loginButton: "Enter",
    loginFailed: "Invalid token",
    area: "Area",
    hectares: "ha",
    other: "Other",
    layer: "Layer",
    searching: "Loading place names…",
    dashboard: "Monitoring",
  },
};

let current = "zh";

/** More strings ({zh: {...}, en: {...}}), e.g. the dashboard's. */
export function addStrings(more) {
  for (const code of Object.keys(STRINGS)) Object.assign(STRINGS[code], more[code] || {});
}

export function lang() {
  return current;
}

export function setLang(value) {
  current = value === "en" ? "en" : "zh";
  document.documentElement.lang = current === "zh" ? "zh-CN" : "en";
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of document.querySelectorAll("[data-i18n-placeholder]")) {
    el.placeholder = t(el.dataset.i18nPlaceholder);
  }
}

export function t(key) {
  return STRINGS[current][key] ?? STRINGS.zh[key] ?? key;
}

/** A {zh, en} title in the current language. */
export function pick(title) {
  if (!title) return "";
  if (typeof title === "string") return title;
  return title[current] ?? title.zh ?? "";
}
