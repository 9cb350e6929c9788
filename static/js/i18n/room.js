// The room page's strings (room.js, templates/room.html) in English, over the classroom's (i18n/classroom.js,
// whose 简体中文 table holds these too); the main page never loads them.

import { extend, lazy } from "./index.js";

export { applyI18n, bindLangSelect, getLang, onLangChange, t } from "./classroom.js";

extend({
  en: {
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
    "room.closed_banner":
      "The teacher closed this room. The network below is the last one shown; forks made from it live on.",
    "room.expired_banner":
      "This room has ended: the teacher's session was left unused for too long. The network below is the last one shown; forks made from it live on.",
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
    "room.fork_why":
      "Fork the teacher's network as it is now — the same data, settings and weights — into a session of your own: train it, step it, change anything.",
    "room.fork_name": "Your name (optional; the teacher sees it)",
    "room.fork": "Fork this network",
    "room.forking": "Forking…",
    "room.forked": "Forked: opening your own session…",
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
  },
});

/** The room page's own words for strings the main page's modules show (the stage's captions): a student
 * watches and traces, and cannot step. Registered by room.js only, over the page's table. */
const roomOnly = {
  en: {
    "cap.playing":
      "<strong>The teacher is training</strong> — the graph shows the latest frame. When the teacher steps, the update plays here phase by phase.",
    "cap.idle":
      "<strong>Watching</strong> — when the teacher steps, the forward pass, the cost, the error flowing backward, the gradients and the update play here phase by phase. Or pick a sample and press <em>Trace it</em> to follow its pass at the teacher's weights.",
  },
  zh: {
    "cap.playing": "<strong>老师正在训练</strong>——图中显示最新的一帧。老师单步执行时，这次更新会在这里逐阶段播放。",
    "cap.idle":
      "<strong>观看中</strong>——老师单步执行时，前向传播、代价、反向流动的误差、梯度和更新会在这里逐阶段播放。也可以选一个样本并按<em>追踪</em>，在老师当前的权重下查看它的传播过程。",
  },
};

/** Use the room page's captions (room.js), over the page's own, now and after the page's 简体中文 tables load
 * (loaders run in the order they were registered: this one last). */
export function useRoomStrings() {
  extend(roomOnly);
  lazy("zh", async () => ({ zh: roomOnly.zh }));
}
