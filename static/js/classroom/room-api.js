// The room REST calls (SPEC §6) and the join-code rules, shared by the teacher's panel (classroom.js) and the
// room page (room.js).

import { t } from "../i18n/classroom.js";

/** A join code as the server writes it (an alphabet without look-alikes). */
export const CODE_RE = /^[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}$/;

/**
 * A code as typed ("abcd efgh", "ABCDEFGH", "abcd-efgh") in the server's form, "ABCD-EFGH".
 * @param {string} text
 */
export function normalizeCode(text) {
  const raw = String(text || "").toUpperCase().replace(/[^A-Z0-9]/g, "");
  return raw.length === 8 ? `${raw.slice(0, 4)}-${raw.slice(4)}` : raw;
}

/**
 * One room REST call (SPEC §6); resolves to the JSON answer (null for 204), or rejects with an Error whose
 * `status` is the HTTP status (0: the server cannot be reached) and whose message is the server's detail.
 * @param {string} method
 * @param {string} path after /api/rooms
 * @param {{token?: string, body?: object}} [opts]
 */
export async function roomCall(method, path, { token, body } = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (token) headers.Authorization = `Bearer ${token}`;
  let res;
  try {
    res = await fetch(`/api/rooms${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (err) {
    throw Object.assign(new Error(t("room.unreachable", { why: err.message })), { status: 0 });
  }
  if (res.status === 204) return null;
  const data = await res.json().catch(() => null);
  if (!res.ok) throw Object.assign(new Error((data && data.detail) || res.statusText), { status: res.status });
  return data;
}
