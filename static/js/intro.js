// Wires /intro's copy button for the <iframe> snippet (the chat itself is chat.js).
import { t } from "./i18n.js";

const code = document.getElementById("embed-code");
const copy = document.getElementById("embed-copy");
const copied = document.getElementById("embed-copied");

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
