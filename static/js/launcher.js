// The chat launcher for other sites: one line on any page,
//   <script src="https://chat.example/launcher.js" data-room="lobby" async></script>
// adds a floating chat button that opens this server's /embed widget in a panel.
// It must run under the host page's own CSP when that allows our origin in
// script-src and frame-src, so it writes no markup styles and no inline script:
// every style is a CSSOM property set, which style-src does not govern.
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
    ? { open: "채팅 열기", close: "채팅 닫기", title: "ComongUS 채팅" }
    : { open: "Open chat", close: "Close chat", title: "ComongUS chat" };
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
    button.setAttribute("aria-label", open ? TEXT.close : TEXT.open);
    button.replaceChildren(icon(open));
    if (open) panel.querySelector("iframe").focus();
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

  const mount = () => document.body.append(button);
  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);
})();
