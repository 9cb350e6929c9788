// Every user-facing string goes through t(key, vars): the tables (i18n/page.js for the playground, other
// tables through extend()) hold one entry per key and language. The notation (a, z, δ, Θ, D, formulas)
// is the same in every language. The chosen language is persisted in localStorage ("bpp.lang").
// Static HTML is translated by attributes: data-i18n (text), data-i18n-html (trusted markup from the
// tables), data-i18n-title, data-i18n-aria-label and data-i18n-placeholder, each holding a key.

const KEY = "bpp.lang";

/** The languages the page speaks: code → the language's own name. */
export const LANGS = Object.freeze({ en: "English", zh: "简体中文" });

/** @type {Record<string, Record<string, string>>} */
const tables = { en: {}, zh: {} };
/** @type {Set<(lang: string) => void>} */
const listeners = new Set();
/** @type {Record<string, Array<() => Promise<Record<string, Record<string, string>>>>>} */
const loaders = {};
let current = initial();

function initial() {
  let saved = null;
  try {
    saved = globalThis.localStorage ? localStorage.getItem(KEY) : null;
  } catch {
    saved = null;
  }
  if (saved && saved in LANGS) return saved;
  const nav = globalThis.navigator ? String(navigator.language || "") : "";
  return nav.toLowerCase().startsWith("zh") ? "zh" : "en";
}

/**
 * Add strings: {en: {key: "…"}, zh: {key: "…"}}. Later tables override earlier keys.
 * @param {Record<string, Record<string, string>>} table
 */
export function extend(table) {
  for (const [lang, strings] of Object.entries(table)) {
    tables[lang] = Object.assign(tables[lang] || {}, strings);
  }
}

/**
 * Register tables to load only when their language is first needed (a module the page need not load for
 * readers of the other language): load() resolves to a table for extend().
 * @param {string} lang
 * @param {() => Promise<Record<string, Record<string, string>>>} load
 */
export function lazy(lang, load) {
  loaders[lang] ||= [];
  loaders[lang].push(load);
}

async function ensure(lang) {
  const pending = loaders[lang];
  if (!pending) return;
  delete loaders[lang];
  for (const table of await Promise.all(pending.map((load) => load()))) extend(table);
}

/** Resolves when the current language's strings are all in (await it before the first t()). */
export function ready() {
  return ensure(current);
}

/**
 * The string for `key` in the current language (English, then the key itself, when missing), with
 * {name} placeholders filled from `vars`.
 * @param {string} key
 * @param {Record<string, string | number>} [vars]
 * @returns {string}
 */
export function t(key, vars) {
  const s = tables[current]?.[key] ?? tables.en[key] ?? key;
  if (!vars) return s;
  return s.replace(/\{(\w+)\}/g, (m, name) => (name in vars ? String(vars[name]) : m));
}

/** Whether a key exists in the English table (for optional strings). @param {string} key */
export function has(key) {
  return key in tables.en;
}

/** The current language code ("en" | "zh"). */
export function getLang() {
  return current;
}

/**
 * Switch language (loading its strings first if need be): persist it, set <html lang>, translate the
 * static HTML and tell the listeners.
 * @param {string} lang
 * @returns {Promise<void>}
 */
export async function setLang(lang) {
  if (!(lang in LANGS) || lang === current) return;
  await ensure(lang);
  current = lang;
  try {
    localStorage.setItem(KEY, lang);
  } catch {
    // private mode: the choice lasts for this page only
  }
  if (globalThis.document) applyI18n(document);
  for (const fn of listeners) fn(lang);
}

/**
 * Call fn(lang) after every language switch; returns the unsubscribe function.
 * @param {(lang: string) => void} fn
 */
export function onLangChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

const ATTRS = [
  ["i18nTitle", "title"],
  ["i18nAriaLabel", "aria-label"],
  ["i18nPlaceholder", "placeholder"],
];

/**
 * Translate every element under root that carries a data-i18n* attribute (root itself included).
 * @param {ParentNode & Partial<HTMLElement>} root
 */
export function applyI18n(root) {
  if (root.documentElement) root.documentElement.lang = current === "zh" ? "zh-Hans" : "en";
  const sel = "[data-i18n],[data-i18n-html],[data-i18n-title],[data-i18n-aria-label],[data-i18n-placeholder]";
  const els = [...root.querySelectorAll(sel)];
  if (root.dataset && root.matches(sel)) els.push(root);
  for (const el of els) {
    const d = el.dataset;
    if (d.i18n) el.textContent = t(d.i18n);
    if (d.i18nHtml) el.innerHTML = t(d.i18nHtml);
    for (const [prop, attr] of ATTRS) if (d[prop]) el.setAttribute(attr, t(d[prop]));
  }
}

/**
 * Fill a <select> with the languages, show the current one and switch on change.
 * @param {HTMLSelectElement} select
 */
export function bindLangSelect(select) {
  select.innerHTML = Object.entries(LANGS)
    .map(([code, name]) => `<option value="${code}"${code === current ? " selected" : ""}>${name}</option>`)
    .join("");
  select.addEventListener("change", () => setLang(select.value));
  onLangChange((lang) => (select.value = lang));
}
