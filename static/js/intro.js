// Wires /intro's copy button for the <iframe> snippet (the chat itself is chat.js).
import { readSettings } from "./forms.js";
import { t } from "./i18n.js";

const code = document.getElementById("embed-code");
const copy = document.getElementById("embed-copy");
const copied = document.getElementById("embed-copied");

// The server writes PUBLIC_URL's address, or only the path: the browser's own
// origin is then the one the visitor reached, never a Host header someone forged.
const { embedUrl } = readSettings();
if (embedUrl) {
  code.value = code.value.replace(embedUrl, new URL(embedUrl, location.href).href);
}

copy.addEventListener("click", async () => {
  code.select();
  try {
    await navigator.clipboard.writeText(code.value);
  } catch {
    document.execCommand("copy"); // http:// on a LAN has no clipboard API
  }
  copied.textContent = t("intro.copied");
  setTimeout(() => { copied.textContent = ""; }, 2000);
});
