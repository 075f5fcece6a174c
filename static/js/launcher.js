// The chat launcher for other sites: one line on any page,
//   <script src="https://chat.example/launcher.js" data-room="lobby" async></script>
// adds a floating chat button that opens this server's /embed widget in a panel.
// It must run under the host page's own CSP when that allows our origin in
// script-src and frame-src, so it writes no markup styles and no inline script:
// every style is a CSSOM property set, which style-src does not govern.
// With `data-host-status` (the /intro snippet has it when the chat has an owner),
// a dot on the button says whether the host is here: GET /host when the page loads
// and when the panel opens. That request needs the chat's origin in the page's
// connect-src; refused, or answered 404 (no owner), the button has no dot. Without
// the attribute nothing is asked, so a page's CSP needs only script-src and frame-src.
(() => {
  "use strict";

  const script = document.currentScript;
  if (!script || window.comongusLauncher) return;
  window.comongusLauncher = true;

  const origin = new URL(script.src, location.href).origin;
  const room = (script.dataset.room || "lobby").trim().slice(0, 64) || "lobby";
  const korean = /^ko\b/i.test(script.dataset.lang || document.documentElement.lang
    || navigator.language || "");
  const TEXT = korean
    ? { open: "채팅 열기", close: "채팅 닫기", title: "ComongUS 채팅",
      here: "호스트가 여기 있어요", away: "호스트가 자리에 없어요" }
    : { open: "Open chat", close: "Close chat", title: "ComongUS chat",
      here: "the host is here", away: "the host is away" };
  const HERE = "#1d8a4e"; // a filled green dot; away is a hollow grey ring (not colour alone)
  const AWAY = "#6b6b6b";
  const ACCENT = "#5b3fd6"; // white on it: 6.7:1
  const FOCUS = "0 0 0 3px #ffb800, 0 4px 14px rgb(0 0 0 / 30%)";
  const SHADOW = "0 4px 14px rgb(0 0 0 / 30%)";
  const SVG = "http://www.w3.org/2000/svg";

  const button = document.createElement("button");
  button.type = "button";
  button.id = "comongus-launcher";
  button.setAttribute("aria-expanded", "false");
  button.setAttribute("aria-controls", "comongus-launcher-panel");
  button.setAttribute("aria-label", TEXT.open);
  Object.assign(button.style, {
    position: "fixed", right: "16px", bottom: "16px", zIndex: "2147483000",
    width: "56px", height: "56px", padding: "0", border: "0", borderRadius: "50%",
    background: ACCENT, color: "#ffffff", cursor: "pointer", boxShadow: SHADOW,
    display: "flex", alignItems: "center", justifyContent: "center", outline: "none",
  });
  button.append(icon());

  let panel = null;
  let hostOnline = null; // null: no owner, or not known

  /** The dot on the button's corner, drawn only once the chat says it has an owner. */
  const dot = document.createElement("span");
  dot.setAttribute("aria-hidden", "true");
  Object.assign(dot.style, {
    position: "absolute", top: "2px", right: "2px", width: "14px", height: "14px",
    borderRadius: "50%", boxSizing: "border-box", border: "3px solid #ffffff", display: "none",
  });

  function label() {
    const open = button.getAttribute("aria-expanded") === "true";
    const base = open ? TEXT.close : TEXT.open;
    return hostOnline === null ? base : `${base} (${hostOnline ? TEXT.here : TEXT.away})`;
  }

  function drawHost() {
    dot.style.display = hostOnline === null ? "none" : "block";
    dot.style.background = hostOnline ? HERE : "#ffffff";
    dot.style.borderColor = hostOnline ? "#ffffff" : AWAY;
    if (hostOnline === null) delete dot.dataset.online;
    else dot.dataset.online = String(hostOnline);
    button.setAttribute("aria-label", label());
  }

  /** GET /host: {online, since}, or 404 when the chat has no owner (then no dot). */
  async function checkHost() {
    try {
      const answer = await fetch(`${origin}/host`, {
        credentials: "omit", headers: { Accept: "application/json" },
      });
      if (answer.ok) {
        const state = await answer.json();
        hostOnline = typeof state.online === "boolean" ? state.online : null;
      } else if (answer.status === 404) {
        hostOnline = null;
      }
    } catch {
      return; // offline, or the page's CSP refuses the request: keep what is shown
    }
    drawHost();
  }

  /** A speech bubble while closed, a cross while open; drawn, never fetched. */
  function icon(open = false) {
    const svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("width", "28");
    svg.setAttribute("height", "28");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    const path = document.createElementNS(SVG, "path");
    path.setAttribute("fill", "currentColor");
    path.setAttribute("d", open
      ? "M6.4 5 5 6.4 10.6 12 5 17.6 6.4 19l5.6-5.6 5.6 5.6 1.4-1.4-5.6-5.6L19 6.4 17.6 5 12 10.6z"
      : "M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2zm3 6v2h2V9zm4 0v2h2V9zm4 0v2h2V9z");
    svg.append(path);
    return svg;
  }

  /** The panel and its iframe, made on the first open so a closed launcher costs nothing. */
  function makePanel() {
    const box = document.createElement("div");
    box.id = "comongus-launcher-panel";
    box.setAttribute("role", "region");
    box.setAttribute("aria-label", TEXT.title);
    Object.assign(box.style, {
      position: "fixed", right: "16px", bottom: "84px", zIndex: "2147483000",
      width: "min(380px, calc(100vw - 32px))", height: "min(600px, calc(100vh - 108px))",
      borderRadius: "12px", overflow: "hidden", boxShadow: SHADOW, background: "#ffffff",
    });
    const frame = document.createElement("iframe");
    frame.src = `${origin}/embed?${new URLSearchParams({ room })}`;
    frame.title = TEXT.title;
    Object.assign(frame.style, { width: "100%", height: "100%", border: "0", display: "block" });
    box.append(frame);
    button.after(box);
    return box;
  }

  function setOpen(open) {
    if (open && !panel) panel = makePanel();
    if (panel) panel.style.display = open ? "block" : "none";
    button.setAttribute("aria-expanded", String(open));
    button.setAttribute("aria-label", label());
    button.replaceChildren(icon(open), dot);
    if (open) {
      panel.querySelector("iframe").focus();
      if (showsHost) checkHost();
    }
  }

  function close() {
    if (button.getAttribute("aria-expanded") !== "true") return;
    setOpen(false);
    button.focus();
  }

  button.addEventListener("click", () => setOpen(button.getAttribute("aria-expanded") !== "true"));
  button.addEventListener("focus", () => { button.style.boxShadow = FOCUS; });
  button.addEventListener("blur", () => { button.style.boxShadow = SHADOW; });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape") close();
  });
  // Keys pressed inside the widget stay in its frame; it posts its Escape here.
  window.addEventListener("message", (event) => {
    if (event.origin === origin && event.data && event.data.type === "comongus:close") close();
  });

  button.append(dot);
  const showsHost = script.hasAttribute("data-host-status");
  const mount = () => {
    document.body.append(button);
    if (showsHost) checkHost();
  };
  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);
})();
