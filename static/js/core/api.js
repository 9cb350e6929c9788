// The REST calls the page makes (docs/api.md). Every failure is an ApiError with the server's detail.

import { t } from "../i18n/index.js";

/** A refused or failed REST call: the HTTP status and the server's human-readable detail. */
export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {string} detail
   * @param {string | null} [field]
   */
  constructor(status, detail, field = null) {
    super(detail);
    this.status = status;
    this.field = field;
  }
}

async function call(method, path, { token, body } = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (token) headers.Authorization = `Bearer ${token}`;
  let res;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (err) {
    throw new ApiError(0, t("api.unreachable", { why: err.message }));
  }
  if (res.status === 204) return null;
  const data = await res.json().catch(() => null);
  if (!res.ok) {
    throw new ApiError(res.status, data?.detail || res.statusText, data?.field);
  }
  return data;
}

/**
 * Create a session from a config (every field optional); resolves to {id, token, …state}.
 * @param {object} [config]
 */
export function createSession(config = {}) {
  return call("POST", "/api/sessions", { body: config });
}

/**
 * Change settings over REST (used for custom data, too big for a live-channel message).
 * @param {{id: string, token: string}} auth
 * @param {object} patch
 */
export function patchSession(auth, patch) {
  return call("PATCH", `/api/sessions/${encodeURIComponent(auth.id)}`, { token: auth.token, body: patch });
}

/**
 * The whole run as one JSON document (config, data, weights, optimizer state, history).
 * @param {{id: string, token: string}} auth
 */
export function exportRun(auth) {
  return call("GET", `/api/sessions/${encodeURIComponent(auth.id)}/export`, { token: auth.token });
}

/** The built-in datasets: [{name, task, inputs, outputs, description}]. */
export function listDatasets() {
  return call("GET", "/api/datasets");
}
