// Style sheets that come with the modules needing them (the page links only what its first screen shows):
// explain.css with the inspector and the gradient check.

/**
 * Link /static/css/<name>.css once (with the page's version query), unless the page links it already.
 * @param {string} name
 */
export function useSheet(name) {
  if (typeof document === "undefined") return; // imported by a test in Node
  if (document.querySelector(`link[href^="/static/css/${name}.css"]`)) return;
  const app = document.querySelector('link[href^="/static/css/app.css"]');
  const version = app ? app.getAttribute("href").replace(/^[^?]*/, "") : "";
  document.head.append(
    Object.assign(document.createElement("link"), { rel: "stylesheet", href: `/static/css/${name}.css${version}` }),
  );
}
