// The class view's lesson box (classroom.js loads it when the room shows a lesson): how many students
// predicted each step's value right on the current sample (GET /api/rooms/{code}/class: lesson).

import { esc } from "../classroom/class-table.js";
import { useSheet } from "../core/style.js";
import { extend, t } from "../i18n/index.js";
import { table } from "../i18n/lesson.js";

extend(table);
useSheet("lesson");

/**
 * The class's right predictions of the lesson (GET …/class: lesson), one row per prediction; the quiz of
 * the common mistakes summed in one row.
 * @param {{step: number, sample: number, answers: {prediction: string, step: number, answered: number, right: number}[]}} lesson
 */
export function lessonHtml(lesson) {
  const rows = [];
  const quiz = { step: 9, answered: 0, right: 0 };
  for (const a of lesson.answers) {
    if (a.prediction.startsWith("quiz."))
      [quiz.answered, quiz.right] = [quiz.answered + a.answered, quiz.right + a.right];
    else rows.push({ ...a, what: t(`lesson.p.${a.prediction}`) });
  }
  if (quiz.answered) rows.push({ ...quiz, prediction: "quiz", what: t("lesson.p.quiz") });
  const body = rows.length
    ? `<ul class="lesson-tally">${rows
        .map(
          (r) =>
            `<li data-prediction="${esc(r.prediction)}" data-step="${r.step}"><span>${t("lesson.class.row", { step: r.step, what: esc(r.what) })}</span> <b>${t("lesson.class.count", { right: r.right, answered: r.answered })}</b></li>`,
        )
        .join("")}</ul>`
    : `<p class="hint">${t("lesson.class.none")}</p>`;
  return `<section class="class-lesson" aria-live="polite"><h3 class="class-title">${t("lesson.class.title", { step: lesson.step, sample: lesson.sample })}</h3>${body}</section>`;
}
