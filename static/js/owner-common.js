// What the sections of /owner share: the owner's requests (the CSRF token on the
// ones that change something, a sign-out elsewhere answered by showing the sign-in
// form), a refusal in words from its code, and dates in the reader's own way.
import { locale, t } from "./i18n.js";

/** The page's CSRF token, for every owner request that changes something. */
export const csrf = document.querySelector('meta[name="csrf-token"]')?.content ?? "";

/** A refusal of an owner request: `code` from the server's `{error, code}`, or
 * "network" when the server could not be reached. */
export class OwnerRequestFailed extends Error {
  constructor(code) {
    super(code);
    this.code = code;
  }
}

/** The JSON of an owner request (null for a 204), or OwnerRequestFailed. Signed
 * out elsewhere (401 on a cookie request): the page reloads into the sign-in form. */
export async function ownerRequest(path, method = "GET") {
  let answer;
  try {
    answer = await fetch(path, {
      method,
      headers: method === "GET" ? { Accept: "application/json" }
        : { Accept: "application/json", "X-CSRF-Token": csrf },
    });
  } catch {
    throw new OwnerRequestFailed("network");
  }
  if (answer.status === 401) {
    window.location.reload();
    throw new OwnerRequestFailed("not_signed_in");
  }
  const body = answer.status === 204 ? null : await answer.json().catch(() => null);
  if (!answer.ok) throw new OwnerRequestFailed(body?.code ?? "server_error");
  return body;
}

/** Why an owner request failed, in the reader's language. */
export function failureText(code) {
  const key = `owner.failure.${code}`;
  const text = t(key);
  return text === key ? t("owner.failure.other", { code }) : text;
}

/** A past moment: the time alone if today, else the date and the time. */
export function when(iso) {
  const date = new Date(iso);
  const today = new Date().toDateString() === date.toDateString();
  return date.toLocaleString(locale(), today ? { timeStyle: "short" }
    : { dateStyle: "medium", timeStyle: "short" });
}

/** A moment to come (a ban's end): always the date and the time. */
export function dateAndTime(iso) {
  return new Date(iso).toLocaleString(locale(), { dateStyle: "medium", timeStyle: "short" });
}
