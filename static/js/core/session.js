// Which session the page drives, and the setup in the URL. The query string holds the whole config
// (?config=<json>), the training speed (&speed=) and a ready-made scenario (&scenario=), rewritten with
// history.replaceState on every change, so a copied link reproduces the run: the same config and seed
// give the same data, the same first weights and the same steps. This tab's session is remembered in
// sessionStorage, and resumed on a reload of the same URL.

import { t } from "../i18n/index.js";
import { LESSONS } from "../lesson/entry.js";
import { createSession } from "./api.js";

const KEY = "bpp.session";

/**
 * The setup the URL asks for: {query, config, error, pace, scenario, notice}; query is the raw ?config=
 * string ("" when absent), error a message when it is not a JSON object.
 * @param {string} search location.search
 */
export function configFromUrl(search) {
  const params = new URLSearchParams(search);
  const query = params.get("config") || "";
  const lesson = params.get("lesson");
  const out = {
    query,
    config: {},
    error: null,
    pace: params.get("speed") || "e1",
    scenario: params.get("scenario"),
    lesson: null,
  };
  if (params.get("data") === "custom") out.error = t("url.custom_data");
  if (lesson && Object.hasOwn(LESSONS, lesson)) out.lesson = lesson;
  else if (lesson) out.error = t("url.bad_lesson", { lesson });
  if (!query) {
    if (out.lesson) [out.config, out.query] = [LESSONS[out.lesson], `lesson:${out.lesson}`]; // unless the link says
    return out;
  }
  try {
    const config = JSON.parse(query);
    if (!config || typeof config !== "object" || Array.isArray(config)) throw new Error("not an object");
    out.config = config;
  } catch (err) {
    out.error = t("url.bad_config", { why: err.message });
  }
  return out;
}

/**
 * A session's config as a link can carry it: nulls dropped; custom data (too big for a URL) left out.
 * @param {object} config the session config (GET /api/sessions/{id}: config)
 * @returns {{config: object, custom: boolean}}
 */
export function shareable(config) {
  const out = {};
  for (const [k, v] of Object.entries(config)) if (v !== null && v !== undefined) out[k] = v;
  const ds = {};
  for (const [k, v] of Object.entries(config.dataset || {})) if (v !== null && v !== undefined) ds[k] = v;
  out.dataset = ds;
  const custom = ds.name === "custom";
  if (custom) for (const k of ["dataset", "features", "output_activation", "loss"]) delete out[k];
  return { config: out, custom };
}

/**
 * The query string of a setup.
 * @param {object} config a session config
 * @param {string} pace the speed key ("e1" is the default and is left out)
 * @param {string | null} scenario
 * @param {string | null} [lesson] an open lesson (?lesson=)
 * @returns {{search: string, query: string}} query: the ?config= value alone
 */
export function urlFor(config, pace, scenario, lesson = null) {
  const { config: c, custom } = shareable(config);
  const query = JSON.stringify(c);
  const params = new URLSearchParams({ config: query });
  if (pace && pace !== "e1") params.set("speed", pace);
  if (scenario) params.set("scenario", scenario);
  if (lesson) params.set("lesson", lesson);
  if (custom) params.set("data", "custom");
  return { search: `?${params}`, query };
}

/**
 * The session this tab drove before, if it was opened for the same URL config.
 * @param {Storage} storage
 * @param {string} query
 * @returns {{id: string, token: string, config: object, query: string} | null}
 */
export function remembered(storage, query) {
  try {
    const s = JSON.parse(storage.getItem(KEY) || "null");
    return s?.id && s.token && s.query === query ? s : null;
  } catch {
    return null;
  }
}

/**
 * The room this tab's session was forked from (room.js records it), or null: the page links back to it.
 * @param {Storage} storage
 * @returns {string | null}
 */
export function forkedFrom(storage) {
  try {
    const s = JSON.parse(storage.getItem(KEY) || "null");
    return s && typeof s.room === "string" ? s.room : null;
  } catch {
    return null;
  }
}

/**
 * Remember this tab's session (after a create, an import, or a change of its URL).
 * @param {Storage} storage
 * @param {{id: string, token: string, config: object, query: string}} record
 */
export function remember(storage, record) {
  storage.setItem(KEY, JSON.stringify(record));
}

/**
 * Create a session for a config and remember it in this tab; a refused config falls back to the default
 * one, and `notice` says why.
 * @param {Storage} storage
 * @param {object} config
 * @param {string} query
 * @returns {Promise<{record: {id: string, token: string, config: object, query: string}, state: object,
 *                    notice: string | null}>}
 */
export async function create(storage, config, query) {
  let notice = null;
  let state;
  try {
    state = await createSession(config);
  } catch (err) {
    if (err.status !== 422 || !Object.keys(config).length) throw err;
    notice = t("url.refused", { why: err.message });
    config = {};
    state = await createSession(config);
  }
  const record = { id: state.id, token: state.token, config, query };
  remember(storage, record);
  return { record, state, notice };
}
