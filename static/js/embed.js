// /embed inside the launcher's panel: keys pressed in a frame never reach the host
// page, so Escape is passed up for the launcher to close the panel.
if (window.parent !== window) {
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape") window.parent.postMessage({ type: "comongus:close" }, "*");
  });
}
