// Which session the page drives: the one this tab already had (sessionStorage), or a new one created over
// REST from the default config or the URL's ?config=<json> (part 2 puts the whole setup in the URL).

import { createSession } from "./api.js";

const KEY = "bpp.session";

/**
 * The config the URL asks for: {query, config, error}. query is the raw ?config= string ("" when absent).
 * @param {string} search location.search
 */
export function configFromUrl(search) {
  const query = new URLSearchParams(search).get("config") || "";
  if (!query) return { query, config: {}, error: null };
  try {
    const config = JSON.parse(query);
    if (!config || typeof config !== "object" || Array.isArray(config)) throw new Error("not an object");
    return { query, config, error: null };
  } catch (err) {
    return { query, config: {}, error: `the URL's config is not a JSON object (${err.message})` };
  }
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
    return s && s.id && s.token && s.query === query ? s : null;
  } catch {
    return null;
  }
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
    notice = `The config was refused (${err.message}); using the default network instead.`;
    config = {};
    state = await createSession(config);
  }
  const record = { id: state.id, token: state.token, config, query };
  storage.setItem(KEY, JSON.stringify(record));
  return { record, state, notice };
}
