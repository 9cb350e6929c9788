// The connection as a person notices it (main and room page): while the server cannot be reached a banner
// says so and the controls that talk to the server are switched off (inert and dimmed); an action tried
// anyway, with a key, is not lost silently (controller.js says it was not sent).

/**
 * @param {{store: {get: () => object, subscribe: (fn: (s: object, changed: Set<string>) => void) => void},
 *          banner: HTMLElement, parts: HTMLElement[]}} deps
 */
export function mountOffline({ store, banner, parts }) {
  const paint = (s) => {
    const down = (s.connection === "reconnecting" || s.connection === "offline") && !s.closed;
    banner.hidden = !down;
    for (const el of parts) {
      el.inert = down;
      el.classList.toggle("offline-off", down);
    }
    document.body.dataset.connection = s.connection;
  };
  store.subscribe((s, changed) => (changed.has("connection") || changed.has("closed")) && paint(s));
  paint(store.get());
}
