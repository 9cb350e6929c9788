// The teacher's class table (docs/classroom.md): each fork's name, step, epoch, loss, accuracy and status, and a Remove
// button that asks first (the fork whose removal waits for the teacher's yes shows Remove it / Keep).

import { fmt, fmtCount } from "../core/format.js";
import { t } from "../i18n/classroom.js";

/** Text made safe for HTML. @param {unknown} s */
export const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const STATUS_ICON = { playing: "▶", paused: "❚❚", diverged: "⚠" };

/**
 * The class table's HTML.
 * @param {Array<{id: string, name: string|null, step: number, epoch: number, status: string,
 *   train_loss: number|null, test_loss: number|null, train_accuracy: number|null}>} forks
 * @param {string} removing the id of the fork whose removal is being confirmed, or ""
 */
export function classTable(forks, removing) {
  const rows = forks.map((f, i) => {
    const name = f.name ? esc(f.name) : `<i>${t("room.unnamed", { n: i + 1 })}</i>`;
    const who = f.name || t("room.unnamed", { n: i + 1 });
    const remove =
      removing === f.id
        ? `<span class="room-confirm" role="group" aria-label="${esc(t("room.remove_confirm", { name: who }))}">
            <button type="button" class="danger" data-act="remove-yes" data-id="${esc(f.id)}">${t("room.remove_yes")}</button>
            <button type="button" data-act="remove-no" data-id="${esc(f.id)}">${t("room.remove_no")}</button></span>`
        : `<button type="button" class="fork-remove" data-act="remove" data-id="${esc(f.id)}" aria-label="${esc(t("room.remove_aria", { name: who }))}" title="${esc(t("room.remove_aria", { name: who }))}">${t("room.remove")}</button>`;
    const acc =
      f.train_accuracy === null || f.train_accuracy === undefined ? "—" : `${(100 * f.train_accuracy).toFixed(0)} %`;
    return `<tr data-fork="${esc(f.id)}" data-status="${f.status}">
      <th scope="row"${f.name ? ` title="${esc(f.name)}"` : ""}>${name}</th>
      <td class="n">${fmtCount(f.step)}<small>${t("room.epoch_short", { n: fmtCount(f.epoch) })}</small></td>
      <td class="n">${fmt(f.train_loss)}<small>${t("room.test_short", { v: fmt(f.test_loss) })}</small></td>
      <td class="n">${acc}</td>
      <td class="st" title="${esc(t(`room.status.${f.status}`))}"><span aria-hidden="true">${STATUS_ICON[f.status] || ""}</span>
        <span class="st-text">${t(`room.status.${f.status}`)}</span></td>
      <td class="rm">${remove}</td></tr>`;
  });
  return `<div class="class-wrap"><table class="class-table">
    <thead><tr><th scope="col">${t("room.col.name")}</th><th scope="col">${t("room.col.step")}</th>
      <th scope="col">${t("room.col.loss")}</th><th scope="col"><abbr title="${esc(t("room.col.acc"))}">${t("room.col.acc_short")}</abbr></th><th scope="col"><span class="st-text">${t("room.col.status")}</span></th><th scope="col"><span class="st-text">${t("room.col.remove")}</span></th></tr></thead>
    <tbody>${rows.join("")}</tbody></table></div>`;
}
