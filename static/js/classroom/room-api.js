// The room REST calls (docs/classroom.md), shared by the teacher's panel (classroom.js) and the room page
// (room.js). The join-code rules are join-code.js.

import { t } from "../i18n/classroom.js";

/**
 * One room REST call (docs/classroom.md); resolves to the JSON answer (null for 204), or rejects with an Error whose
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
    res = await fetch(`/api/rooms${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    throw Object.assign(new Error(t("room.unreachable", { why: err.message })), { status: 0 });
  }
  if (res.status === 204) return null;
  const data = await res.json().catch(() => null);
  if (!res.ok) throw Object.assign(new Error(data?.detail || res.statusText), { status: res.status });
  return data;
}
