// /owner, signed in: the page holds a Socket.IO connection (it joins no room) so the
// owner counts as online, "The host is here" for visitors, while it is open.
if (typeof window.io === "function") window.io({ transports: ["websocket", "polling"] });
