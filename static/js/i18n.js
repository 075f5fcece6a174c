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
    "conn.connecting": "Connecting…",
    "conn.connected": "Connected",
    "conn.polling": "Connected (long-polling)",
    "conn.reconnecting": "Reconnecting…",
    "conn.offline": "Offline",
    // -- chat panel: notices and errors by code (contract v1.1), days, offline, counters
    "code.welcome": "{name}, welcome to #{room}.",
    "code.joined.one": "{names} has joined.",
    "code.joined.other": "{names} have joined.",
    "code.left.one": "{names} has left.",
    "code.left.other": "{names} have left.",
    "code.joined.more": "{first} and {count} others have joined.",
    "code.left.more": "{first} and {count} others have left.",
    "code.name_taken": "This nickname is already taken in this room. Choose another.",
    "code.name_invalid": "This nickname can't be used. Use visible letters, digits or symbols.",
    "code.name_reserved": "This nickname is reserved. Choose another.",
    "code.name_invalid.required": "Please choose a nickname.",
    "code.name_invalid.too_long": "This nickname is too long: at most {max} characters.",
    "code.name_invalid.no_visible": "A nickname needs at least one visible letter, digit or symbol.",
    "code.name_invalid.invisible": "This nickname holds an invisible character ({character}). Remove it and try again.",
    "code.room_invalid.required": "Please choose a room.",
    "code.room_invalid.too_long": "This room name is too long: at most {max} characters.",
    "code.room_invalid.no_visible": "A room name needs at least one visible letter, digit or symbol.",
    "code.room_invalid.invisible": "This room name holds an invisible character ({character}). Remove it and try again.",
    "code.bad_request": "The server could not understand this request.",
    "code.room_invalid": "This room name can't be used. Use visible letters, digits or symbols.",
    "code.not_joined": "You are not in the room right now; it will be sent when you are back.",
    "code.text_empty": "Write something first.",
    "code.text_too_long": "This message is too long: at most {max} characters.",
    "code.rate_limited": "You are sending too fast. Wait a moment, then retry.",
    "code.slow_mode": "Slow mode is on: wait a little before sending again.",
    "code.room_locked": "Only the host can write in this room now.",
    "code.storage_unavailable": "The server can't save messages right now. Try again in a moment.",
    "code.server_error": "Something went wrong on the server. Try again.",
    // -- bans: a banned visitor's notice and refused join or send ({until}: a date and time)
    "code.banned": "The host has banned you from here until {until}.",
    "day.today": "Today",
    "day.yesterday": "Yesterday",
    "offline.title": "You are offline.",
    "offline.next": "Next try at {time}.",
    "offline.trying": "Trying to reconnect…",
    "offline.retry": "Retry now",
    "people.stale": "Last known list, may be out of date",
    "chat.placeholderShort": "Message",
    "chat.unread": "({count}) {title}",
    "count.left.one": "{count} character left",
    "count.left.other": "{count} characters left",
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
    // The owner's inbox on /owner, and its browser notifications.
    "owner.inbox": "Waiting for you",
    "owner.inboxLoading": "Loading…",
    "owner.inboxEmpty": "Nobody is waiting: every message is read.",
    "owner.inboxFailed": "The inbox could not be loaded; trying again in a moment.",
    "owner.unread.one": "{count} unread",
    "owner.unread.other": "{count} unread",
    "owner.notifyMe": "Notify me",
    "owner.notifyOn": "Notifications are on: new messages show while this page is open in the background.",
    "owner.notifyBlocked": "Notifications are blocked for this site in the browser's settings.",
    "owner.notificationTitle": "{user} in {room}",
    // The owner's bans in force and moderation log on /owner.
    "owner.bans": "Bans in force",
    "owner.bansEmpty": "Nobody is banned.",
    "owner.bansFailed": "The bans could not be loaded; trying again in a moment.",
    "owner.banAddress": "address {address}",
    "owner.banRoom": "in room {room}",
    "owner.banEveryRoom": "in every room",
    "owner.banUntil": "until {until}",
    "owner.lift": "Lift",
    "owner.liftLabel": "Lift the ban on {who}",
    "owner.lifted": "The ban on {who} is lifted.",
    "owner.liftGone": "The ban on {who} had already ended.",
    "owner.liftFailed": "The ban on {who} is not lifted: {reason}",
    "owner.failure.network": "the server could not be reached. Try again.",
    "owner.failure.not_signed_in": "you are signed out. Sign in again.",
    "owner.failure.csrf_invalid": "this page is out of date. Reload it and try again.",
    "owner.failure.rate_limited": "too many tries. Wait a moment, then try again.",
    "owner.failure.storage_unavailable": "the database is not answering. Try again in a moment.",
    "owner.failure.other": "the server refused ({code}).",
    "owner.log": "Moderation log",
    "owner.logEmpty": "Nothing done yet: deletions, bans and room settings will show here.",
    "owner.logFailed": "The moderation log could not be loaded; trying again in a moment.",
    "owner.logLatest": "The latest {count} actions, newest first.",
    "owner.log.delete": "Deleted message #{id} in room {room}.",
    "owner.log.ban.name.room": "Banned {name} from room {room} until {until}.",
    "owner.log.ban.name.all": "Banned {name} from every room until {until}.",
    "owner.log.ban.address.room": "Banned address {address} from room {room} until {until}.",
    "owner.log.ban.address.all": "Banned address {address} from every room until {until}.",
    "owner.log.lift.name.room": "Lifted the ban on {name} in room {room}.",
    "owner.log.lift.name.all": "Lifted the ban on {name} in every room.",
    "owner.log.lift.address.room": "Lifted the ban on address {address} in room {room}.",
    "owner.log.lift.address.all": "Lifted the ban on address {address} in every room.",
    "owner.log.locked": "Locked room {room}: only the host can write in it.",
    "owner.log.unlocked": "Unlocked room {room}.",
    "owner.log.slowMode": "Slow mode in room {room}: one message every {seconds} s.",
    "owner.log.slowModeOff": "Turned slow mode off in room {room}.",
    "owner.log.settingsSame": "Saved room {room}'s settings unchanged.",
    "owner.log.settings": "Set room {room}: {locked}, {slowMode}.",
    "owner.log.settingsLocked": "locked",
    "owner.log.settingsOpen": "open to everyone",
    "owner.log.settingsSlow": "one message every {seconds} s",
    "owner.log.settingsNoSlow": "no slow mode",
    "owner.log.other": "Did “{action}”.",
    "host.online": "The host is here",
    "host.away": "The host is away: leave a note and they will see it",
    // Moderation: a deleted message's place, a locked room, slow mode.
    "moderation.deleted": "message deleted",
    "moderation.delete": "Delete",
    "moderation.locked": "This room is locked: only the host can write in it.",
    "moderation.slowMode": "Slow mode: one message every {seconds} s.",
    // The host's badge, and the host's own controls in the chat panel (hostcontrols.js).
    "host.badge": "Host",
    "hostTools.roomSettings": "Room settings",
    "hostTools.lock": "Locked: only the host can write",
    "hostTools.slowMode": "Slow mode",
    "hostTools.slow.0": "Off",
    "hostTools.slow.5": "5 s",
    "hostTools.slow.10": "10 s",
    "hostTools.slow.30": "30 s",
    "hostTools.slow.60": "1 min",
    "hostTools.slow.300": "5 min",
    "hostTools.slowOther": "{seconds} s",
    "hostTools.save": "Save",
    "hostTools.saved": "The room's settings are saved.",
    "hostTools.personMenu": "Actions for {name}",
    "hostTools.personTitle": "{name}",
    "hostTools.banFor": "Ban for",
    "hostTools.for.10": "10 minutes",
    "hostTools.for.60": "1 hour",
    "hostTools.for.1440": "1 day",
    "hostTools.banRoom": "Ban from this room",
    "hostTools.banAll": "Ban from every room",
    "hostTools.close": "Close",
    "hostTools.bannedRoom": "{name} is banned from #{room} until {until}.",
    "hostTools.bannedAll": "{name} is banned from every room until {until}.",
    "hostTools.unreachable": "Could not reach the server; try again.",
    // -- the host's controls: refusals of the owner's REST calls, by code
    "code.not_signed_in": "You are not signed in as the owner any more: sign in again at /owner.",
    "code.csrf_invalid": "This page's owner session is out of date: reload it and try again.",
    "code.owner_unbannable": "The host cannot be banned.",
    "code.not_found": "That is gone already: reload to see what is there now.",
    "code.minutes_invalid": "Choose how long the ban lasts.",
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
    "conn.connecting": "연결 중…",
    "conn.connected": "연결됨",
    "conn.polling": "연결됨 (롱 폴링)",
    "conn.reconnecting": "다시 연결하는 중…",
    "conn.offline": "연결 끊김",
    // -- chat panel: notices and errors by code (contract v1.1), days, offline, counters
    "code.welcome": "{name} 님, #{room} 방에 오신 것을 환영합니다.",
    "code.joined.one": "{names} 님이 들어왔습니다.",
    "code.joined.other": "{names} 님이 들어왔습니다.",
    "code.left.one": "{names} 님이 나갔습니다.",
    "code.left.other": "{names} 님이 나갔습니다.",
    "code.joined.more": "{first} 님 외 {count}명이 들어왔습니다.",
    "code.left.more": "{first} 님 외 {count}명이 나갔습니다.",
    "code.name_taken": "이 방에서 이미 쓰고 있는 닉네임입니다. 다른 닉네임을 골라 주세요.",
    "code.name_invalid": "쓸 수 없는 닉네임입니다. 보이는 글자, 숫자, 기호로 정해 주세요.",
    "code.name_reserved": "예약된 닉네임입니다. 다른 닉네임을 골라 주세요.",
    "code.name_invalid.required": "닉네임을 입력해 주세요.",
    "code.name_invalid.too_long": "닉네임이 너무 깁니다. 최대 {max}자까지 쓸 수 있습니다.",
    "code.name_invalid.no_visible": "닉네임에는 보이는 글자, 숫자, 기호가 하나 이상 있어야 합니다.",
    "code.name_invalid.invisible": "닉네임에 보이지 않는 문자({character})가 있습니다. 지우고 다시 시도해 주세요.",
    "code.room_invalid.required": "방 이름을 입력해 주세요.",
    "code.room_invalid.too_long": "방 이름이 너무 깁니다. 최대 {max}자까지 쓸 수 있습니다.",
    "code.room_invalid.no_visible": "방 이름에는 보이는 글자, 숫자, 기호가 하나 이상 있어야 합니다.",
    "code.room_invalid.invisible": "방 이름에 보이지 않는 문자({character})가 있습니다. 지우고 다시 시도해 주세요.",
    "code.bad_request": "서버가 이 요청을 이해하지 못했습니다.",
    "code.room_invalid": "쓸 수 없는 방 이름입니다. 보이는 글자, 숫자, 기호로 정해 주세요.",
    "code.not_joined": "지금은 방에 들어가 있지 않습니다. 다시 연결되면 보냅니다.",
    "code.text_empty": "먼저 내용을 입력해 주세요.",
    "code.text_too_long": "메시지가 너무 깁니다. 최대 {max}자까지 쓸 수 있습니다.",
    "code.rate_limited": "너무 빨리 보내고 있습니다. 잠시 뒤에 다시 보내 주세요.",
    "code.slow_mode": "슬로 모드입니다. 조금 기다렸다가 다시 보내 주세요.",
    "code.room_locked": "지금은 호스트만 이 방에 쓸 수 있습니다.",
    "code.storage_unavailable": "서버가 지금 메시지를 저장할 수 없습니다. 잠시 뒤에 다시 시도해 주세요.",
    "code.server_error": "서버에 문제가 생겼습니다. 다시 시도해 주세요.",
    // -- bans: a banned visitor's notice and refused join or send ({until}: a date and time)
    "code.banned": "호스트가 {until}까지 이곳에서 당신의 참여를 막았습니다.",
    "day.today": "오늘",
    "day.yesterday": "어제",
    "offline.title": "연결이 끊겼습니다.",
    "offline.next": "{time}에 다시 연결합니다.",
    "offline.trying": "다시 연결하는 중…",
    "offline.retry": "지금 다시 연결",
    "people.stale": "마지막으로 확인한 목록이라 지금과 다를 수 있습니다",
    "chat.placeholderShort": "메시지",
    "chat.unread": "({count}) {title}",
    "count.left.one": "{count}자 남음",
    "count.left.other": "{count}자 남음",
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
    // The owner's inbox on /owner, and its browser notifications.
    "owner.inbox": "기다리는 사람",
    "owner.inboxLoading": "불러오는 중…",
    "owner.inboxEmpty": "기다리는 사람이 없어요: 모든 메시지를 읽었어요.",
    "owner.inboxFailed": "받은 메시지를 불러오지 못했어요. 잠시 뒤에 다시 시도해요.",
    "owner.unread.one": "안 읽은 메시지 {count}개",
    "owner.unread.other": "안 읽은 메시지 {count}개",
    "owner.notifyMe": "알림 받기",
    "owner.notifyOn": "알림이 켜졌어요: 이 페이지가 뒤에 열려 있는 동안 새 메시지를 알려 드려요.",
    "owner.notifyBlocked": "브라우저 설정에서 이 사이트의 알림이 차단되어 있어요.",
    "owner.notificationTitle": "{room}의 {user}",
    // The owner's bans in force and moderation log on /owner.
    "owner.bans": "적용 중인 차단",
    "owner.bansEmpty": "차단된 사람이 없어요.",
    "owner.bansFailed": "차단 목록을 불러오지 못했어요. 잠시 뒤에 다시 시도해요.",
    "owner.banAddress": "주소 {address}",
    "owner.banRoom": "{room} 방",
    "owner.banEveryRoom": "모든 방",
    "owner.banUntil": "{until}까지",
    "owner.lift": "해제",
    "owner.liftLabel": "{who} 차단 해제",
    "owner.lifted": "{who} 차단을 해제했어요.",
    "owner.liftGone": "{who} 차단은 이미 끝났어요.",
    "owner.liftFailed": "{who} 차단을 해제하지 못했어요: {reason}",
    "owner.failure.network": "서버에 연결할 수 없어요. 다시 시도해 보세요.",
    "owner.failure.not_signed_in": "로그아웃되었어요. 다시 로그인하세요.",
    "owner.failure.csrf_invalid": "페이지가 오래되었어요. 새로 고친 뒤 다시 시도해 보세요.",
    "owner.failure.rate_limited": "시도가 너무 많아요. 잠시 기다린 뒤 다시 시도해 보세요.",
    "owner.failure.storage_unavailable": "데이터베이스가 응답하지 않아요. 잠시 뒤에 다시 시도해 보세요.",
    "owner.failure.other": "서버가 거절했어요 ({code}).",
    "owner.log": "관리 기록",
    "owner.logEmpty": "아직 한 일이 없어요. 삭제, 차단, 방 설정이 여기에 남아요.",
    "owner.logFailed": "관리 기록을 불러오지 못했어요. 잠시 뒤에 다시 시도해요.",
    "owner.logLatest": "최근 {count}개를 새것부터 보여 드려요.",
    "owner.log.delete": "{room} 방에서 메시지 하나(#{id})를 삭제했어요.",
    "owner.log.ban.name.room": "{name} 님을 {until}까지 {room} 방에서 차단했어요.",
    "owner.log.ban.name.all": "{name} 님을 {until}까지 모든 방에서 차단했어요.",
    "owner.log.ban.address.room": "주소 {address}에서 오는 사람을 {until}까지 {room} 방에서 차단했어요.",
    "owner.log.ban.address.all": "주소 {address}에서 오는 사람을 {until}까지 모든 방에서 차단했어요.",
    "owner.log.lift.name.room": "{name} 님의 {room} 방 차단을 해제했어요.",
    "owner.log.lift.name.all": "{name} 님의 모든 방 차단을 해제했어요.",
    "owner.log.lift.address.room": "주소 {address}의 {room} 방 차단을 해제했어요.",
    "owner.log.lift.address.all": "주소 {address}의 모든 방 차단을 해제했어요.",
    "owner.log.locked": "{room} 방을 잠갔어요: 주인만 쓸 수 있어요.",
    "owner.log.unlocked": "{room} 방의 잠금을 풀었어요.",
    "owner.log.slowMode": "{room} 방에 슬로 모드를 켰어요: {seconds}초에 한 번 보낼 수 있어요.",
    "owner.log.slowModeOff": "{room} 방의 슬로 모드를 껐어요.",
    "owner.log.settingsSame": "{room} 방의 설정을 그대로 저장했어요.",
    "owner.log.settings": "{room} 방 설정: {locked}, {slowMode}.",
    "owner.log.settingsLocked": "잠금",
    "owner.log.settingsOpen": "누구나 쓸 수 있음",
    "owner.log.settingsSlow": "{seconds}초에 한 번",
    "owner.log.settingsNoSlow": "슬로 모드 꺼짐",
    "owner.log.other": "“{action}” 작업을 했어요.",
    "host.online": "호스트가 여기 있어요",
    "host.away": "호스트가 자리에 없어요: 메모를 남기면 호스트가 볼 거예요",
    // Moderation: a deleted message's place, a locked room, slow mode.
    "moderation.deleted": "삭제된 메시지입니다",
    "moderation.delete": "삭제",
    "moderation.locked": "이 방은 잠겨 있어 호스트만 쓸 수 있습니다.",
    "moderation.slowMode": "슬로 모드: {seconds}초에 한 번 보낼 수 있습니다.",
    // The host's badge, and the host's own controls in the chat panel (hostcontrols.js).
    "host.badge": "호스트",
    "hostTools.roomSettings": "방 설정",
    "hostTools.lock": "잠금: 호스트만 쓸 수 있음",
    "hostTools.slowMode": "슬로 모드",
    "hostTools.slow.0": "끔",
    "hostTools.slow.5": "5초",
    "hostTools.slow.10": "10초",
    "hostTools.slow.30": "30초",
    "hostTools.slow.60": "1분",
    "hostTools.slow.300": "5분",
    "hostTools.slowOther": "{seconds}초",
    "hostTools.save": "저장",
    "hostTools.saved": "방 설정을 저장했습니다.",
    "hostTools.personMenu": "{name} 님 관리",
    "hostTools.personTitle": "{name} 님",
    "hostTools.banFor": "기간",
    "hostTools.for.10": "10분",
    "hostTools.for.60": "1시간",
    "hostTools.for.1440": "1일",
    "hostTools.banRoom": "이 방에서 차단",
    "hostTools.banAll": "모든 방에서 차단",
    "hostTools.close": "닫기",
    "hostTools.bannedRoom": "{name} 님을 {until}까지 #{room} 방에서 차단했습니다.",
    "hostTools.bannedAll": "{name} 님을 {until}까지 모든 방에서 차단했습니다.",
    "hostTools.unreachable": "서버에 연결하지 못했습니다. 다시 시도해 주세요.",
    // -- the host's controls: refusals of the owner's REST calls, by code
    "code.not_signed_in": "주인으로 로그인되어 있지 않습니다. /owner에서 다시 로그인해 주세요.",
    "code.csrf_invalid": "이 페이지의 주인 세션이 오래되었습니다. 새로 고침한 뒤 다시 시도해 주세요.",
    "code.owner_unbannable": "호스트는 차단할 수 없습니다.",
    "code.not_found": "이미 없습니다. 새로 고쳐 지금 있는 것을 보세요.",
    "code.minutes_invalid": "차단 기간을 골라 주세요.",
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

/**
 * The locale for dates and times: the reader's own (en-GB writes 17:25, en-US
 * 5:25 PM) when it is of the page's language, else the language itself.
 */
export function locale() {
  const preferred = navigator.languages && navigator.languages.length
    ? navigator.languages : [navigator.language || current];
  const own = preferred.find((tag) => String(tag).toLowerCase().split("-")[0] === current);
  try {
    return own ? Intl.getCanonicalLocales(own)[0] : current;
  } catch {
    return current; // a malformed tag
  }
}

/** The UI string `key` in the current language, with {placeholders} filled in. */
export function t(key, params = {}) {
  const text = STRINGS[current][key] ?? STRINGS.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
}

/** `key` + ".one" / ".other" by the plural rule of the current language for `count`. */
export function plural(key, count, params = {}) {
  const form = new Intl.PluralRules(current).select(count) === "one" ? "one" : "other";
  return t(`${key}.${form}`, { count, ...params });
}

/** "A", "A and B", "A, B, and C" in the current language. */
export function nameList(names) {
  return new Intl.ListFormat(current, { style: "long", type: "conjunction" }).format(names);
}

/**
 * A notice or error in the reader's language from its code and params (contract
 * v1.1), or `fallback` (the server's own text) when the code is unknown or absent.
 */
export function codeText(code, params, fallback = "", extra = {}) {
  params = params && typeof params === "object" ? params : {};
  if (code === "joined" || code === "left") {
    const names = Array.isArray(params.names) ? params.names.map(String) : [];
    if (!names.length) return fallback;
    if (names.length > 3) {
      // "A, B and 3 others have joined."
      return t(`code.${code}.more`, { first: names.slice(0, 2).join(", "), count: names.length - 2 });
    }
    return plural(`code.${code}`, names.length, { names: nameList(names) });
  }
  if (!code) return fallback;
  // The most precise text first: a name or room refusal says what is wrong with it.
  const keys = typeof params.problem === "string"
    ? [`code.${code}.${params.problem}`, `code.${code}`] : [`code.${code}`];
  const filled = { ...extra, ...params };
  if (typeof params.until === "string" && !Number.isNaN(Date.parse(params.until))) {
    // A ban's end, in the reader's own way of writing dates and times.
    filled.until = new Intl.DateTimeFormat(locale(), { dateStyle: "medium", timeStyle: "short" })
      .format(new Date(params.until));
  }
  for (const key of keys) {
    if (!(key in STRINGS.en)) continue;
    const text = t(key, filled);
    if (!/\{\w+\}/.test(text)) return text; // else a param the text needs is missing
  }
  return fallback;
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
