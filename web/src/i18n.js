// UI strings in Chinese and English; the language is part of the permalink (lang=en).
const STRINGS = {
  zh: {
    title: "国土空间规划一张图",
    titleInternal: "国土空间规划一张图（内部版）",
    search: "搜索村庄、乡镇、地名",
    layers: "图层",
    info: "要素信息",
    check: "选址检查",
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
  },
  en: {
    title: "Territorial spatial plan One Map",
    titleInternal: "Territorial spatial plan One Map (staff)",
    search: "Search villages, townships, places",
    layers: "Layers",
    info: "Feature",
    check: "Site check",
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
  },
};

// Field codes of the planning database standard → names (the panel shows these).
export const FIELDS = {
  BSM: ["标识码", "Identifier"],
  YSDM: ["要素代码", "Feature code"],
  XZQDM: ["行政区代码", "Admin code"],
  XZQMC: ["行政区名称", "Admin unit"],
  SSXDM: ["所属县代码", "County code"],
  MJ: ["面积", "Area"],
  HXMC: ["红线名称", "Red-line name"],
  HXLX: ["红线类型", "Red-line type"],
  TBBH: ["图斑编号", "Parcel number"],
  DLBM: ["地类编码", "Land class code"],
  DLMC: ["地类名称", "Land class"],
  ZLDWDM: ["坐落单位代码", "Location unit code"],
  ZLDWMC: ["坐落单位名称", "Location unit"],
  GHFQDM: ["规划分区代码", "Planning zone code"],
  GHFQMC: ["规划分区名称", "Planning zone"],
  YDYHFLDM: ["用地用海分类代码", "Land-use class code"],
  YDYHFLMC: ["用地用海分类名称", "Land-use class"],
  CJDM: ["村级代码", "Village code"],
  CJMC: ["村庄名称", "Village"],
  LX: ["类型", "Type"],
  SSXZ: ["所属乡镇", "Township"],
  HLMC: ["河流名称", "River"],
  HLDJ: ["河流等级", "River grade"],
  CD: ["长度（米）", "Length (m)"],
  LXMC: ["路线名称", "Road"],
  LXDJ: ["路线等级", "Road grade"],
  ZRBHDMC: ["保护地名称", "Protected area"],
  ZRBHDLX: ["保护地类型", "Protected-area type"],
  GNFQ: ["功能分区", "Functional zone"],
  JB: ["级别", "Level"],
  XMMC: ["项目名称", "Project"],
  JSDW: ["建设单位", "Developer"],
  SQYT: ["申请用途", "Intended use"],
  SPZT: ["审批状态", "Approval status"],
  SQSJ: ["申请时间", "Applied on"],
};

let current = "zh";

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

export function fieldName(code) {
  const names = FIELDS[code];
  return names ? names[current === "zh" ? 0 : 1] : code;
}
