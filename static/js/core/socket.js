// The live channel client (docs/protocol.md): connect, authenticate, decode binary frames, reconnect
// with backoff and re-authenticate, and report everything as DOM events:
//   "hello" "state" "status" "trace" "error" "gradcheck" "frame"  — detail: the message (frame: decoded)
//   "connection" — detail: {state: "connecting" | "live" | "reconnecting"}
//   "gone"       — detail: {code, reason}: the session no longer exists (or the token no longer opens it)
//   "refused"    — detail: {reason}: the server will never accept this page (origin not allowed)

const MAGIC = "BPF1";
const BACKOFF_MS = [250, 500, 1000, 2000, 4000, 8000];
const CLOSE_GONE = 4404;
const CLOSE_POLICY = 1008;
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * @typedef {import("./frame.js").FrameArray} FrameArray
 * @typedef {import("./frame.js").Frame} Frame
 */

/**
 * Decode a binary frame: "BPF1", a little-endian uint32 n, n bytes of JSON header, then each array of
 * header.arrays as little-endian float32, row-major.
 * @param {ArrayBuffer} buf
 * @returns {Frame}
 */
export function decodeFrame(buf) {
  const bytes = new Uint8Array(buf);
  if (String.fromCharCode(bytes[0], bytes[1], bytes[2], bytes[3]) !== MAGIC) throw new Error("not a frame");
  const view = new DataView(buf);
  const n = view.getUint32(4, true);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  /** @type {Record<string, FrameArray>} */
  const arrays = {};
  let offset = 8 + n;
  for (const spec of header.arrays || []) {
    const size = spec.shape.reduce((a, b) => a * b, 1);
    let data;
    if (LITTLE_ENDIAN && offset % 4 === 0) {
      data = new Float32Array(buf, offset, size);
    } else {
      data = new Float32Array(size);
      for (let i = 0; i < size; i++) data[i] = view.getFloat32(offset + 4 * i, true);
    }
    arrays[spec.name] = { data, shape: spec.shape };
    offset += 4 * size;
  }
  return { header, arrays };
}

/** One session's live channel, kept open across network drops. */
export class LiveSocket extends EventTarget {
  /** @param {(auth: {id: string}) => string} [urlFor] the websocket URL of a session */
  constructor(urlFor = defaultUrl) {
    super();
    this.urlFor = urlFor;
    /** @type {{id: string, token: string} | null} */
    this.auth = null;
    /** @type {WebSocket | null} */
    this.ws = null;
    this.attempt = 0;
    this.timer = 0;
    this.live = false;
  }

  /**
   * Connect to a session (closing any previous connection first). A room's read-only channel needs no
   * token: give the room's code as `id`, `token: null`, and a `urlFor` that builds the room's URL.
   * @param {{id: string, token: string | null}} auth
   */
  connect(auth) {
    this.auth = auth;
    this.attempt = 0;
    this.open();
  }

  /** Close for good (no reconnection). */
  close() {
    this.auth = null;
    clearTimeout(this.timer);
    this.shut(1000, "bye");
  }

  /** Close the current connection as a network drop would (the client reconnects); for tests. */
  drop() {
    this.shut(4000, "dropped");
    this.retry();
  }

  /**
   * Send a message when connected and authenticated; returns whether it went out.
   * @param {object} msg
   */
  send(msg) {
    if (!this.live || !this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(msg));
    return true;
  }

  emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  shut(code, reason) {
    const ws = this.ws;
    this.ws = null;
    this.live = false;
    if (ws) {
      ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
      if (ws.readyState <= WebSocket.OPEN) ws.close(code, reason);
    }
  }

  open() {
    clearTimeout(this.timer);
    this.shut(1000, "reconnecting");
    const auth = this.auth;
    if (!auth) return;
    this.emit("connection", { state: this.attempt ? "reconnecting" : "connecting" });
    const ws = new WebSocket(this.urlFor(auth));
    ws.binaryType = "arraybuffer";
    this.ws = ws;
    ws.onopen = () => auth.token && ws.send(JSON.stringify({ type: "auth", token: auth.token }));
    ws.onmessage = (ev) => this.receive(ev.data);
    ws.onclose = (ev) => this.closed(ev.code, ev.reason);
  }

  receive(data) {
    if (typeof data !== "string") {
      let frame;
      try {
        frame = decodeFrame(data);
      } catch (err) {
        this.emit("error", { type: "error", code: "bad_frame", message: String(err) });
        return;
      }
      this.emit("frame", frame);
      return;
    }
    const msg = JSON.parse(data);
    if (msg.type === "hello") {
      this.live = true;
      this.attempt = 0;
      this.emit("connection", { state: "live" });
    }
    this.emit(msg.type, msg);
  }

  closed(code, reason) {
    this.ws = null;
    this.live = false;
    if (!this.auth) return;
    if (code === CLOSE_POLICY && /origin/i.test(reason)) {
      this.auth = null;
      this.emit("refused", { reason });
    } else if (code === CLOSE_GONE || code === CLOSE_POLICY) {
      // 4404: deleted or expired while connected; 1008 at auth: unknown session or a token that no longer
      // opens it. Either way this session cannot be resumed.
      this.auth = null;
      this.emit("gone", { code, reason });
    } else {
      this.retry();
    }
  }

  retry() {
    clearTimeout(this.timer);
    const base = BACKOFF_MS[Math.min(this.attempt, BACKOFF_MS.length - 1)];
    this.attempt += 1;
    this.emit("connection", { state: "reconnecting" });
    this.timer = setTimeout(() => this.open(), base * (0.75 + 0.5 * Math.random()));
  }
}

function defaultUrl(auth) {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}/api/sessions/${encodeURIComponent(auth.id)}/ws`;
}
