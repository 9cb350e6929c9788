// The classroom (docs/classroom.md), the teacher's side in the main page's #classroom: open a room on this page's
// session, show its join code large (full-screen for a projector) with the link, list the class (every 2 s;
// class-table.js), remove a fork from the class, close the room. The room (code, teacher token, its session)
// is kept in sessionStorage for reloads.

import { onLangChange, t } from "../i18n/classroom.js";
import { classTable, esc } from "./class-table.js";
import { roomCall } from "./room-api.js";

const KEY = "bpp.room";
const POLL_MS = 2000;

/**
 * The teacher's panel. Needs the store's `auth` (this page's session) to open a room.
 * @param {{store: object, root: HTMLElement, storage?: Storage, every?: number}} deps
 * @returns {{refresh: () => Promise<void>, stop: () => void}}
 */
export function mountClassroom({ store, root, storage = sessionStorage, every = POLL_MS }) {
  let room = load();
  let forks = [];
  let lesson = null; // the lesson the room shows, with the class's right predictions (lesson/tally.js)
  let tally = null;
  let message = "";
  let confirming = false;
  let removing = ""; // the fork whose removal waits for the teacher's yes
  let timer = 0;
  let inflight = null;
  let busy = false;

  function load() {
    try {
      const r = JSON.parse(storage.getItem(KEY) || "null");
      return r?.code && r.teacher_token && r.session ? r : null;
    } catch {
      return null; // not JSON: no room
    }
  }

  function forget(why) {
    stopPolling();
    room = null;
    forks = [];
    lesson = null;
    confirming = false;
    message = why || "";
    storage.removeItem(KEY);
    render();
  }

  function render() {
    root.innerHTML = `<h2 id="classroom-title">${t("room.heading")}</h2>${room ? openHtml() : closedHtml()}`;
    root.setAttribute("aria-labelledby", "classroom-title");
  }

  function closedHtml() {
    return `<p class="room-intro">${t("room.intro")}</p>
      <form class="room-open" data-act="open">
        <label>${t("room.title_label")} <input name="title" maxlength="120" placeholder="${esc(t("room.title_placeholder"))}"></label>
        <button type="submit" class="primary" ${busy || !store.get().auth ? "disabled" : ""}>${t("room.open")}</button>
      </form>${messageHtml()}`;
  }
  const messageHtml = () => (message ? `<p class="room-msg" role="status">${esc(message)}</p>` : "");

  function openHtml() {
    const link = roomLink();
    const close = confirming
      ? `<span class="room-confirm" role="group" aria-label="${esc(t("room.close_confirm"))}">${t("room.close_confirm")}
          <button type="button" class="danger" data-act="close-yes">${t("room.close_yes")}</button>
          <button type="button" data-act="close-no">${t("room.close_no")}</button></span>`
      : `<button type="button" data-act="close">${t("room.close")}</button>`;
    return `<div class="room-card">
        <p class="room-label">${t("room.join_code")}${room.title ? ` · <span class="room-name">${esc(room.title)}</span>` : ""}</p>
        <p class="room-code-big" data-testid="room-code" aria-label="${esc(t("room.code_aria", { code: spell(room.code) }))}">${room.code}</p>
        <div class="room-link"><a id="room-link" href="${esc(link)}" target="_blank" rel="noopener">${esc(link).replace("/room/", "<wbr>/room/")}</a>
          <button type="button" data-act="copy">${t("room.copy")}</button></div>
        <div class="room-actions"><button type="button" class="primary" data-act="projector">${t("room.projector")}</button>${close}</div>
      </div>
      ${messageHtml()}
      ${lesson && tally ? tally(lesson) : ""}
      <h3 class="class-title">${t("room.class", { n: forks.length })}</h3>
      ${forks.length ? classTable(forks, removing) : `<p class="hint">${t("room.no_forks")}</p>`}`;
  }

  const roomLink = () => (room.url && /^https?:/.test(room.url) ? room.url : `${location.origin}/room/${room.code}`);
  const spell = (code) => code.replace("-", "").split("").join(" ");

  // -- the projector view: the code and the link across the whole screen (Esc or the button closes it) --
  let dialog = null;
  function projector() {
    dialog = document.createElement("dialog");
    dialog.className = "projector";
    dialog.setAttribute("aria-labelledby", "projector-code");
    document.body.append(dialog);
    paintProjector();
    dialog.addEventListener("close", () => {
      if (document.fullscreenElement) document.exitFullscreen().catch(() => {});
      dialog.remove();
      dialog = null;
      root.querySelector("[data-act=projector]")?.focus();
    });
    dialog.addEventListener("click", (ev) => ev.target.closest("[data-act=projector-close]") && dialog.close());
    dialog.showModal();
    if (dialog.requestFullscreen) dialog.requestFullscreen().catch(() => {});
  }

  /** Paint the projector view; `countOnly` keeps what has focus and changes only the number of forks. */
  function paintProjector(countOnly = false) {
    if (!dialog || !room) return;
    const count = dialog.querySelector(".projector-count");
    if (countOnly && count) {
      count.textContent = t("room.forked_count", { n: forks.length });
      return;
    }
    const link = roomLink();
    const where = link.replace(/^https?:\/\//, "").replace(/\/room\/.*$/, "/room");
    dialog.innerHTML = `<div class="projector-body">
        <p class="projector-title">${esc(room.title || t("room.heading"))}</p>
        <p class="projector-how">${t("room.projector_how", { where: `<b>${esc(where)}</b>` })}</p>
        <p id="projector-code" class="projector-code" aria-label="${esc(t("room.code_aria", { code: spell(room.code) }))}">${room.code}</p>
        <p class="projector-link">${esc(link)}</p>
        <p class="projector-count" data-count="${forks.length}">${t("room.forked_count", { n: forks.length })}</p>
      </div>
      <button type="button" class="projector-close" data-act="projector-close" autofocus>${t("room.projector_close")}</button>`;
  }

  // -- REST ---------------------------------------------------------------------------------------------
  async function open(title) {
    const auth = store.get().auth;
    if (!auth || busy) return;
    busy = true;
    message = "";
    render();
    try {
      const made = await roomCall("POST", "", { token: auth.token, body: { session_id: auth.id, title } });
      room = { code: made.code, teacher_token: made.teacher_token, title: made.title, url: made.url, session: auth.id };
      storage.setItem(KEY, JSON.stringify(room));
      forks = [];
      startPolling();
    } catch (err) {
      message = t("room.open_failed", { why: err.message });
    } finally {
      busy = false;
      render();
    }
    root.querySelector("[data-act=projector]")?.focus();
  }

  async function refresh() {
    if (!room || inflight) return inflight;
    const code = room.code;
    inflight = roomCall("GET", `/${code}/class`, { token: room.teacher_token })
      .then((out) => {
        if (!room || room.code !== code) return;
        const before = JSON.stringify([forks, lesson]);
        forks = out.forks;
        lesson = out.lesson || null;
        if (lesson && !tally) {
          import("../lesson/tally.js").then((m) => {
            tally = m.lessonHtml;
            update();
          });
        }
        if (message === t("room.poll_failed")) message = "";
        if (JSON.stringify([forks, lesson]) !== before) update();
      })
      .catch((err) => {
        if (!room || room.code !== code) return;
        if (err.status === 404) forget(t("room.gone", { code }));
        else if (err.status === 401 || err.status === 403) forget(t("room.not_teacher", { code }));
        else {
          message = t("room.poll_failed");
          update();
        }
      })
      .finally(() => (inflight = null));
    return inflight;
  }

  /** Repaint what the class (or the language) changed without losing focus. */
  function update(lang) {
    const focused =
      document.activeElement && root.contains(document.activeElement) ? document.activeElement.dataset : null;
    render();
    if (focused?.act) {
      const forId = focused.id ? `[data-id="${CSS.escape(focused.id)}"]` : "";
      (
        root.querySelector(`[data-act="${focused.act}"]${forId}`) || root.querySelector(`[data-act="${focused.act}"]`)
      )?.focus();
    }
    paintProjector(!lang);
  }

  async function close() {
    if (!room) return;
    stopPolling();
    if (inflight) await inflight; // no class call may race the close (it would 404)
    const { code, teacher_token: token } = room;
    const err = await roomCall("DELETE", `/${code}`, { token }).then(
      () => null,
      (e) => e,
    );
    if (!err || err.status === 404) forget(t("room.closed", { code }));
    else {
      message = t("room.close_failed", { why: err.message });
      confirming = false;
      startPolling();
      render();
    }
    root.querySelector("button[type=submit]")?.focus();
  }

  /** Remove one fork from the class (its session is deleted; the student's page is told). */
  async function removeFork(id) {
    if (!room) return;
    const { code, teacher_token: token } = room;
    const err = await roomCall("DELETE", `/${code}/forks/${encodeURIComponent(id)}`, { token }).then(
      () => null,
      (e) => e,
    );
    removing = "";
    if (err && err.status !== 404) message = t("room.remove_failed", { why: err.message });
    else forks = forks.filter((f) => f.id !== id);
    update();
    refresh();
  }

  function startPolling() {
    stopPolling();
    refresh();
    timer = setInterval(refresh, every);
  }

  const stopPolling = () => (timer = clearInterval(timer) || 0);

  // -- events ---------------------------------------------------------------------------------------------
  root.addEventListener("submit", (ev) => {
    if (!ev.target.matches("[data-act=open]")) return;
    ev.preventDefault();
    open(ev.target.elements.title.value.trim());
  });
  const confirm = (on, focus) => {
    confirming = on;
    render();
    root.querySelector(`[data-act=${focus}]`).focus();
  };
  const confirmRemove = (id, focus, focusId = id) => {
    removing = id;
    render();
    root.querySelector(`[data-act=${focus}][data-id="${CSS.escape(focusId)}"]`)?.focus();
  };
  const acts = {
    projector,
    copy,
    close: () => confirm(true, "close-no"),
    "close-no": () => confirm(false, "close"),
    "close-yes": close,
    remove: (b) => confirmRemove(b.dataset.id, "remove-no"),
    "remove-no": (b) => confirmRemove("", "remove", b.dataset.id),
    "remove-yes": (b) => removeFork(b.dataset.id),
  };
  root.addEventListener("click", (ev) => {
    const b = ev.target.closest("button[data-act]");
    if (b && acts[b.dataset.act]) acts[b.dataset.act](b);
  });

  async function copy(button) {
    const link = root.querySelector("#room-link");
    getSelection().selectAllChildren(link);
    try {
      await navigator.clipboard.writeText(link.href);
      button.textContent = t("room.copied");
    } catch {
      button.textContent = t("room.copy_manual");
    }
    setTimeout(() => {
      if (button.isConnected) button.textContent = t("room.copy");
    }, 2000);
  }

  // The room shows one session: when the page moves to another (the old one expired), the room went with it.
  function follow(auth) {
    if (room && room.session !== auth.id) forget(t("room.session_gone", { code: room.code }));
    else if (room && !timer) startPolling();
    else if (!room) render(); // the Open button waits for the session
  }
  store.subscribe((s, changed) => changed.has("auth") && s.auth && follow(s.auth));
  onLangChange(update);
  render();
  if (store.get().auth) follow(store.get().auth);
  return { refresh, stop: stopPolling, render };
}
