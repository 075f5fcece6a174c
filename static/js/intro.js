// Wires /intro's copy buttons for the owner's snippets (the chat itself is chat.js).
import { t } from "./i18n.js";

const copied = document.getElementById("embed-copied");

// The server writes PUBLIC_URL's address, or only the path: the browser's own
// origin is then the one the visitor reached, never a Host header someone forged.
for (const code of document.querySelectorAll("textarea[data-url]")) {
  const path = code.dataset.url;
  code.value = code.value.replace(path, new URL(path, location.href).href);
}

for (const button of document.querySelectorAll("button[data-copy]")) {
  button.addEventListener("click", async () => {
    const code = document.getElementById(button.dataset.copy);
    code.select();
    try {
      await navigator.clipboard.writeText(code.value);
    } catch {
      document.execCommand("copy"); // http:// on a LAN has no clipboard API
    }
    copied.textContent = t("intro.copied");
    setTimeout(() => { copied.textContent = ""; }, 2000);
  });
}
