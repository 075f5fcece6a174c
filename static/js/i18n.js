// UI text in English and Korean. The language comes from the reader's earlier
// choice (localStorage), else from navigator.language; the switch in the header
// changes it on the spot. Templates carry the English text plus a data-i18n key,
// so a page reads fine before this runs.

const STORAGE_KEY = "comongus.lang";
const LANGUAGES = ["en", "ko"];

const STRINGS = {
  en: {
    "skip": "Skip to content",
    "nav.home": "Home",
    "nav.chat": "Live chat",
    "nav.intro": "Introduction",
    "lang.label": "Language",
    "home.title": "Chatterbox",
    "home.lead": "The latest messages of every room. Leave one, or step into the live chat.",
    "home.glow": "Enter the live chat",
    "home.filter": "Room",
    "home.filterPlaceholder": "all rooms",
    "home.filterApply": "Show",
    "home.filterClear": "All rooms",
    "home.showing": "Showing room {room}",
    "home.showingAll": "Showing every room",
    "home.postTitle": "Leave a message",
    "home.post": "Post",
    "home.posted": "Posted.",
    "home.postFailed": "Could not reach the server; try again.",
    "home.boardTitle": "Latest messages",
    "home.empty": "No messages yet. Be the first!",
    "home.loadFailed": "Could not load messages; retrying…",
    "field.name": "Nickname",
    "field.room": "Room",
    "field.text": "Message",
    "field.required": "Please fill this in.",
    "field.tooLong": "At most {max} characters.",
    "join.title": "Join a room",
    "join.lead": "Pick a room and a nickname. Anyone in the same room sees your messages.",
    "join.submit": "Join",
    "join.joining": "Joining…",
    "join.activeRooms": "Where people are chatting now",
    "join.noRooms": "No one is chatting right now: start a room.",
    "join.roomPeople": "{count} online",
    "chat.messages": "Messages",
    "chat.people": "Online",
    "chat.send": "Send",
    "chat.placeholder": "Type a message (Enter sends, Shift+Enter for a new line)",
    "chat.leave": "Leave",
    "chat.loadEarlier": "Load earlier messages",
    "chat.loading": "Loading…",
    "chat.jump": "New messages ↓",
    "chat.you": "(you)",
    "chat.typing1": "{a} is typing…",
    "chat.typing2": "{a} and {b} are typing…",
    "chat.typingMany": "Several people are typing…",
    "chat.sending": "sending…",
    "chat.sent": "sent",
    "chat.failed": "not sent",
    "chat.retry": "Retry",
    "chat.cancel": "Discard",
    "chat.joinNickname": "Choose a nickname to join the chat.",
    "chat.lostJoin": "You are no longer in the room: {reason}",
    "conn.connecting": "Connecting…",
    "conn.connected": "Connected",
    "conn.polling": "Connected (long-polling)",
    "conn.reconnecting": "Reconnecting…",
    "conn.offline": "Offline",
    "intro.chatTitle": "Say hello",
    "intro.embedTitle": "Put this chat on your site",
    "intro.embedLead": "Copy this snippet into your page:",
    "intro.launcherLead": "Or a chat button in the corner of every page:",
    "intro.copy": "Copy",
    "intro.copied": "Copied!",
    // The owner: sign-in at /owner, and the host's presence in the chat's header.
    "owner.title": "Owner",
    "owner.signedInAs": "You are signed in as",
    "owner.signOut": "Sign out",
    "owner.signInTitle": "Sign in as the owner",
    "owner.password": "Password",
    "owner.signIn": "Sign in",
    "owner.error.wrong_password": "Wrong password.",
    "owner.error.rate_limited": "Too many tries: wait a minute, then try again.",
    "owner.error.password_required": "Enter the password.",
    "host.online": "The host is here",
    "host.away": "The host is away: leave a note and they will see it",
  },
  ko: {
    "skip": "본문으로 건너뛰기",
    "nav.home": "홈",
    "nav.chat": "실시간 채팅",
    "nav.intro": "소개",
    "lang.label": "언어",
    "home.title": "수다방",
    "home.lead": "모든 방의 최근 메시지입니다. 한마디 남기거나 실시간 채팅에 들어가 보세요.",
    "home.glow": "실시간 채팅 들어가기",
    "home.filter": "방",
    "home.filterPlaceholder": "모든 방",
    "home.filterApply": "보기",
    "home.filterClear": "모든 방",
    "home.showing": "{room} 방을 보는 중",
    "home.showingAll": "모든 방을 보는 중",
    "home.postTitle": "메시지 남기기",
    "home.post": "올리기",
    "home.posted": "올렸습니다.",
    "home.postFailed": "서버에 연결하지 못했습니다. 다시 시도해 주세요.",
    "home.boardTitle": "최근 메시지",
    "home.empty": "아직 메시지가 없습니다. 처음으로 남겨 보세요!",
    "home.loadFailed": "메시지를 불러오지 못했습니다. 다시 시도하는 중…",
    "field.name": "닉네임",
    "field.room": "방 이름",
    "field.text": "메시지",
    "field.required": "입력해 주세요.",
    "field.tooLong": "최대 {max}자까지 쓸 수 있습니다.",
    "join.title": "방에 들어가기",
    "join.lead": "방과 닉네임을 고르세요. 같은 방에 있는 사람 모두가 메시지를 봅니다.",
    "join.submit": "들어가기",
    "join.joining": "들어가는 중…",
    "join.activeRooms": "지금 대화가 오가는 곳",
    "join.noRooms": "지금 대화 중인 방이 없습니다. 새 방을 열어 보세요.",
    "join.roomPeople": "{count}명 접속 중",
    "chat.messages": "메시지",
    "chat.people": "접속 중",
    "chat.send": "보내기",
    "chat.placeholder": "메시지를 입력하세요 (Enter로 보내기, Shift+Enter로 줄바꿈)",
    "chat.leave": "나가기",
    "chat.loadEarlier": "이전 메시지 더 보기",
    "chat.loading": "불러오는 중…",
    "chat.jump": "새 메시지 ↓",
    "chat.you": "(나)",
    "chat.typing1": "{a} 님이 입력 중…",
    "chat.typing2": "{a}, {b} 님이 입력 중…",
    "chat.typingMany": "여러 사람이 입력 중…",
    "chat.sending": "보내는 중…",
    "chat.sent": "보냄",
    "chat.failed": "보내지 못함",
    "chat.retry": "다시 보내기",
    "chat.cancel": "지우기",
    "chat.joinNickname": "닉네임을 정하고 채팅에 참여하세요.",
    "chat.lostJoin": "방에서 나가졌습니다: {reason}",
    "conn.connecting": "연결 중…",
    "conn.connected": "연결됨",
    "conn.polling": "연결됨 (롱 폴링)",
    "conn.reconnecting": "다시 연결하는 중…",
    "conn.offline": "연결 끊김",
    "intro.chatTitle": "인사 나누기",
    "intro.embedTitle": "내 사이트에 이 채팅 넣기",
    "intro.embedLead": "아래 코드를 페이지에 붙여 넣으세요:",
    "intro.launcherLead": "또는 모든 페이지 구석에 채팅 버튼을 달려면:",
    "intro.copy": "복사",
    "intro.copied": "복사했습니다!",
    // The owner: sign-in at /owner, and the host's presence in the chat's header.
    "owner.title": "주인",
    "owner.signedInAs": "로그인한 이름:",
    "owner.signOut": "로그아웃",
    "owner.signInTitle": "주인으로 로그인",
    "owner.password": "비밀번호",
    "owner.signIn": "로그인",
    "owner.error.wrong_password": "비밀번호가 틀렸습니다.",
    "owner.error.rate_limited": "시도가 너무 많습니다. 1분 뒤에 다시 해 보세요.",
    "owner.error.password_required": "비밀번호를 입력하세요.",
    "host.online": "호스트가 여기 있어요",
    "host.away": "호스트가 자리에 없어요: 메모를 남기면 호스트가 볼 거예요",
  },
};

const listeners = [];
let current = pickLanguage();

function pickLanguage() {
  const saved = safeStorage(() => localStorage.getItem(STORAGE_KEY));
  if (LANGUAGES.includes(saved)) return saved;
  const preferred = navigator.languages && navigator.languages.length
    ? navigator.languages : [navigator.language || "en"];
  for (const tag of preferred) {
    const base = String(tag).toLowerCase().split("-")[0];
    if (LANGUAGES.includes(base)) return base;
  }
  return "en";
}

function safeStorage(action) {
  try {
    return action();
  } catch {
    return null; // storage disabled (privacy mode, sandboxed iframe): not remembered
  }
}

/** The current language code, "en" or "ko". */
export function lang() {
  return current;
}

/** The UI string `key` in the current language, with {placeholders} filled in. */
export function t(key, params = {}) {
  const text = STRINGS[current][key] ?? STRINGS.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
}

/** Call `listener` after every language change (to redraw dynamic text). */
export function onLanguageChange(listener) {
  listeners.push(listener);
}

export function setLanguage(code) {
  if (!LANGUAGES.includes(code)) return;
  current = code;
  safeStorage(() => localStorage.setItem(STORAGE_KEY, code));
  translatePage();
  for (const listener of listeners) listener(code);
}

/** Fill every data-i18n* element under `root` with text of the current language. */
export function translatePage(root = document) {
  document.documentElement.lang = current;
  for (const element of root.querySelectorAll("[data-i18n]")) {
    element.textContent = t(element.dataset.i18n);
  }
  for (const element of root.querySelectorAll("[data-i18n-placeholder]")) {
    element.placeholder = t(element.dataset.i18nPlaceholder);
  }
  for (const element of root.querySelectorAll("[data-i18n-label]")) {
    element.setAttribute("aria-label", t(element.dataset.i18nLabel));
  }
  const picker = document.getElementById("lang-switch");
  if (picker) picker.value = current;
}

function wireSwitch() {
  const picker = document.getElementById("lang-switch");
  if (picker) picker.addEventListener("change", () => setLanguage(picker.value));
  translatePage();
}

wireSwitch();
