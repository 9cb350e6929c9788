// The classroom's strings (SPEC §6): the teacher's panel on the main page (classroom.js) and the room
// page (room.js, templates/room.html), registered with the page's i18n through extend() (English) and
// lazy() (简体中文, i18n/classroom-zh.js: loaded by ready() when chosen). Importing t from here makes sure
// the table is registered before the page awaits ready().

import { extend, lazy } from "./index.js";

export { applyI18n, bindLangSelect, getLang, onLangChange, t } from "./index.js";

const en = {
  // the teacher's panel
  "room.heading": "Classroom",
  "room.intro": "Show this run live to a class: students open the room's page with its code, watch every step, and fork it into a session of their own.",
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
  "room.status.playing": "training",
  "room.status.paused": "paused",
  "room.status.diverged": "diverged",
  // the room page
  "room.skip": "Skip to the content",
  "room.home_title": "Backprop Playground: your own session",
  "room.r_step": "step",
  "room.r_epoch": "epoch",
  "room.r_train": "train loss",
  "room.r_test": "test loss",
  "room.views_legend": "What the graph shows while the teacher trains",
  "room.language": "Language",
  "room.code_title": "The room's join code",
  "room.join_heading": "Join a classroom",
  "room.join_label": "The code your teacher shows",
  "room.join": "Join",
  "room.join_help": "Eight letters and digits; upper or lower case, with or without the hyphen.",
  "room.bad_code": "A join code has eight letters and digits, like ABCD-EFGH.",
  "room.unknown": "There is no open room {code}. Check the code, or ask your teacher whether the room is still open.",
  "room.unknown_plain": "There is no open room with that code.",
  "room.join_other": "Join another room",
  "room.open_playground": "Open the playground",
  "room.closed_banner": "The teacher closed this room. The network below is the last one shown; forks made from it live on.",
  "room.read_only": "Read-only",
  "room.read_only_title": "The teacher's run: fork it to drive your own",
  "room.stage_aria": "The teacher's network",
  "room.sample": "Sample",
  "room.of": "of {n}",
  "room.trace": "Trace it",
  "room.trace_title": "The forward and backward pass of this sample at the teacher's current weights",
  "room.prev": "Previous phase (←)",
  "room.next": "Next phase (→)",
  "room.replay": "Play the phases again",
  "room.speed": "Speed",
  "room.autoplay": "Auto-play",
  "room.live": "Live",
  "room.live_title": "Show the latest training frame instead of this trace",
  "room.inspector": "Inspector",
  "room.fork_heading": "Your own copy",
  "room.fork_why": "Fork the teacher's network as it is now — the same data, settings and weights — into a session of your own: train it, step it, change anything.",
  "room.fork_name": "Your name (optional; the teacher sees it)",
  "room.fork": "Fork this network",
  "room.forking": "Forking…",
  "room.forked": "Forked: opening your own session…",
  "room.back": "← Back to room {code}",
  "room.fork_failed": "Could not fork: {why}",
  "room.teacher_playing": "▶ training",
  "room.teacher_paused": "❚❚ paused",
  "room.teacher_diverged": "⚠ diverged",
  "room.teacher_closed": "room closed",
  "room.teacher_title": "The teacher's run",
  "room.conn_connecting": "connecting…",
  "room.conn_live": "live",
  "room.conn_reconnecting": "reconnecting…",
  "room.conn_offline": "offline",
  "room.conn_closed": "closed",
};

extend({ en });
lazy("zh", async () => ({ zh: (await import("./classroom-zh.js")).zh }));

/** The room page's own words for strings the main page's modules show (the stage's captions): a student
 * watches and traces, and cannot step. Registered by room.js only, over the page's table. */
const roomOnly = {
  en: {
    "cap.playing": "<strong>The teacher is training</strong> — the graph shows the latest frame. When the teacher steps, the update plays here phase by phase.",
    "cap.idle": "<strong>Watching</strong> — when the teacher steps, the forward pass, the cost, the error flowing backward, the gradients and the update play here phase by phase. Or pick a sample and press <em>Trace it</em> to follow its pass at the teacher's weights.",
  },
  zh: {
    "cap.playing": "<strong>老师正在训练</strong>——图中显示最新的一帧。老师单步执行时，这次更新会在这里逐阶段播放。",
    "cap.idle": "<strong>观看中</strong>——老师单步执行时，前向传播、代价、反向流动的误差、梯度和更新会在这里逐阶段播放。也可以选一个样本并按<em>追踪</em>，在老师当前的权重下查看它的传播过程。",
  },
};

/** Use the room page's captions (room.js), over the page's own, now and after the page's 简体中文 tables load
 * (loaders run in the order they were registered: this one last). */
export function useRoomStrings() {
  extend(roomOnly);
  lazy("zh", async () => ({ zh: roomOnly.zh }));
}
