// The join-code rules (pure): the form the server writes a room's code in, and a code as a person types it
// brought to that form. Used by the room page's join box (room.js); the server's own rules are
// app/rooms.py (`normalize_code`), described in docs/classroom.md.

/** A join code as the server writes it (an alphabet without look-alikes: no I, O, 0 or 1). */
export const CODE_RE = /^[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}$/;

/**
 * A code as typed ("abcd efgh", "ABCDEFGH", "abcd-efgh") in the server's form, "ABCD-EFGH".
 * @param {string} text
 * @returns {string}
 */
export function normalizeCode(text) {
  const raw = String(text || "")
    .toUpperCase()
    .replace(/[^A-Z0-9]/g, "");
  return raw.length === 8 ? `${raw.slice(0, 4)}-${raw.slice(4)}` : raw;
}
