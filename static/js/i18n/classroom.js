// The classroom's strings (docs/classroom.md): the teacher's panel on the main page (classroom.js), registered with
// the page's i18n through extend() (English) and lazy() (简体中文, i18n/classroom-zh.js, which holds the room
// page's too: loaded by ready() when chosen). The room page's English strings are in i18n/room.js.
// Importing t from here makes sure the table is registered before the page awaits ready().

import { extend, lazy } from "./index.js";

export { applyI18n, bindLangSelect, getLang, onLangChange, t } from "./index.js";

const en = {
  // the teacher's panel
  "room.heading": "Classroom",
  "room.intro":
    "Show this run live to a class: students open the room's page with its code, watch every step, and fork it into a session of their own.",
  "room.title_label": "Title",
  "room.title_placeholder": "optional, e.g. Lecture 4: XOR",
  "room.open": "Open a room",
  "room.open_failed": "Could not open a room: {why}",
  "room.join_code": "Join code",
  "room.code_aria": "Join code {code}",
  "room.copy": "Copy link",
  "room.copied": "Copied ✓",
  "room.copy_manual": "Selected: press Ctrl+C",
  "room.projector": "Projector view",
  "room.projector_how": "Open {where} and type the code:",
  "room.projector_close": "Close (Esc)",
  "room.forked_count": "{n} forked so far",
  "room.close": "Close room",
  "room.close_confirm": "Close the room for everyone?",
  "room.close_yes": "Close it",
  "room.close_no": "Keep it open",
  "room.close_failed": "Could not close the room: {why}",
  "room.closed": "Room {code} is closed. The students' forks live on as their own sessions.",
  "room.gone": "Room {code} is no longer open.",
  "room.not_teacher": "This tab no longer holds room {code}'s teacher token.",
  "room.session_gone": "Room {code} closed when the session it showed ended.",
  "room.poll_failed": "The class list could not be refreshed; trying again…",
  "room.unreachable": "the server cannot be reached ({why})",
  "room.class": "The class · {n} forks",
  "room.no_forks": "No one has forked the run yet. Forks appear here, refreshed every 2 seconds.",
  "room.unnamed": "student {n}",
  "room.epoch_short": "epoch {n}",
  "room.test_short": "test {v}",
  "room.col.name": "Name",
  "room.col.step": "Step",
  "room.col.loss": "Loss",
  "room.col.acc": "Accuracy",
  "room.col.acc_short": "Acc.",
  "room.col.status": "Status",
  "room.col.remove": "Remove",
  "room.remove": "Remove",
  "room.remove_aria": "Remove {name}'s fork",
  "room.remove_confirm": "Remove {name}'s fork? Their session is deleted.",
  "room.remove_yes": "Remove it",
  "room.remove_no": "Keep",
  "room.remove_failed": "Could not remove the fork: {why}",
  "room.status.playing": "training",
  "room.status.paused": "paused",
  "room.status.diverged": "diverged",
  "room.back": "← Back to room {code}",
};

extend({ en });
lazy("zh", async () => ({ zh: (await import("./classroom-zh.js")).zh }));
