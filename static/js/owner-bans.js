// "Bans in force" on /owner: every ban not yet over (GET /bans), each with who (a
// name or an address), where (a room or every room), until when, and a Lift button
// (DELETE /bans/<id>). A redraw keeps the keyboard focus on the Lift button it was
// on; a lifted row goes, and the focus moves to the next one. Names and rooms are
// visitors' words: textContent only.
import { t } from "./i18n.js";
import { OwnerRequestFailed, dateAndTime, failureText, ownerRequest } from "./owner-common.js";

const list = document.getElementById("bans");
const status = document.getElementById("bans-status");
const said = document.getElementById("bans-said");
const error = document.getElementById("bans-error");
const heading = document.getElementById("bans-title");

let bans = null; // the last answer, re-drawn when the language changes
const lifting = new Set(); // ids whose DELETE is under way: their Lift stays disabled
let asked = 0; // GET /bans requests made so far
let staleUpTo = 0; // answers to requests up to this one were asked before the last lift
let statusKey = null; // what the status line says when not a list: empty, or not loaded
let outcome = null; // what the last Lift came to: {element, say}, said again in a new language

function who(ban) {
  return ban.name ?? t("owner.banAddress", { address: ban.address });
}

function row(ban) {
  const item = document.createElement("li");
  item.className = "owner-ban";
  item.dataset.banId = String(ban.id);
  const target = document.createElement("strong");
  target.className = "owner-ban-who";
  target.textContent = who(ban);
  const detail = document.createElement("span");
  detail.className = "owner-ban-detail";
  const where = ban.room === undefined ? t("owner.banEveryRoom")
    : t("owner.banRoom", { room: ban.room });
  detail.textContent = where + " · " + t("owner.banUntil", { until: dateAndTime(ban.expires) });
  const lift = document.createElement("button");
  lift.type = "button";
  lift.className = "button-quiet owner-lift";
  lift.textContent = t("owner.lift");
  lift.setAttribute("aria-label", t("owner.liftLabel", { who: who(ban) }));
  lift.disabled = lifting.has(ban.id);
  lift.addEventListener("click", () => liftBan(ban));
  const text = document.createElement("p");
  text.className = "owner-ban-text";
  text.append(target, detail);
  item.append(text, lift);
  return item;
}

function showStatus(key) {
  delete status.dataset.i18n; // from here on this module says what it says
  statusKey = key;
  status.textContent = t(key);
  status.hidden = false;
}

function tell(element, say) {
  for (const note of [said, error]) note.hidden = note !== element;
  outcome = { element, say };
  element.textContent = say();
}

function liftButton(id) {
  return list.querySelector(`[data-ban-id="${id}"] button`);
}

/** Draw the last answer; the Lift button that had the focus keeps it. */
export function drawBans() {
  if (outcome) outcome.element.textContent = outcome.say();
  if (statusKey) status.textContent = t(statusKey);
  if (bans === null) return;
  const focused = document.activeElement?.closest?.("#bans [data-ban-id]")?.dataset.banId;
  list.replaceChildren(...bans.map(row));
  if (focused) liftButton(focused)?.focus();
  if (bans.length === 0) showStatus("owner.bansEmpty");
  else status.hidden = true;
}

export async function refreshBans() {
  const number = ++asked;
  try {
    const results = (await ownerRequest("/bans")).results;
    if (number <= staleUpTo) return; // it may still hold the ban just lifted
    bans = results;
    drawBans();
  } catch (failure) {
    if (!(failure instanceof OwnerRequestFailed)) throw failure;
    showStatus("owner.bansFailed");
  }
}

async function liftBan(ban) {
  lifting.add(ban.id);
  liftButton(ban.id).disabled = true;
  try {
    await ownerRequest(`/bans/${ban.id}`, "DELETE");
    forget(ban, "owner.lifted");
  } catch (failure) {
    if (!(failure instanceof OwnerRequestFailed)) throw failure;
    if (failure.code === "not_found") {
      forget(ban, "owner.liftGone"); // it ended, or was lifted elsewhere
    } else {
      const button = liftButton(ban.id);
      if (button) button.disabled = false;
      tell(error, () => t("owner.liftFailed",
        { who: who(ban), reason: failureText(failure.code) }));
    }
  } finally {
    lifting.delete(ban.id);
  }
}

/** Take a lifted ban off the list, say so, and move the focus to the next Lift. */
function forget(ban, key) {
  const item = liftButton(ban.id)?.closest("li");
  const next = item?.nextElementSibling ?? item?.previousElementSibling;
  bans = bans.filter((other) => other.id !== ban.id);
  staleUpTo = asked;
  item?.remove();
  if (bans.length === 0) showStatus("owner.bansEmpty");
  tell(said, () => t(key, { who: who(ban) }));
  (next?.querySelector("button") ?? heading).focus();
}
