// wsgate chat page: plain JavaScript, no build step.
//
// It speaks the chat example's protocol (examples/chat/README.md) to the local gateway or to a
// deployed API Gateway stage. User text only ever reaches the page through textContent.
"use strict";

(() => {
  const params = new URLSearchParams(window.location.search);

  // API Gateway limits that a browser can run into (AWS docs: "Amazon API Gateway quotas for
  // configuring and running a WebSocket API"): 128 KB per message, 10 minutes idle timeout.
  const MAX_MESSAGE_BYTES = 128 * 1024;
  // The chat handler's own limit on the text of one message, in characters.
  const MAX_TEXT_CHARS = 4000;
  // An application-level ping keeps the connection from idling out; API Gateway does not count
  // protocol-level ping frames as activity.
  const PING_MS = positiveNumber(params.get("ping"), 240) * 1000;
  // Reconnect backoff: exponential, capped, with jitter so that many clients do not come back at
  // the same moment after an outage.
  const BACKOFF_BASE_MS = positiveNumber(params.get("backoff"), 0.5) * 1000;
  const BACKOFF_CAP_MS = 30000;
  const ROOM_RE = /^[A-Za-z0-9_-]{1,64}$/;
  const ROOMS_KEY = "wsgate-chat:rooms";
  const CURRENT_KEY = "wsgate-chat:current";
  const NAME_KEY = "wsgate-chat:name";

  const $ = (id) => document.getElementById(id);
  const ui = {
    status: $("status"),
    signOut: $("sign-out"),
    error: $("error"),
    errorText: $("error-text"),
    errorClose: $("error-close"),
    signIn: $("sign-in"),
    signInForm: $("sign-in-form"),
    name: $("name"),
    serverUrl: $("server-url"),
    chat: $("chat"),
    rooms: $("rooms"),
    joinForm: $("join-form"),
    room: $("room"),
    members: $("members"),
    roomTitle: $("room-title"),
    leave: $("leave"),
    messages: $("messages"),
    sayForm: $("say-form"),
    text: $("text"),
    send: $("send"),
    count: $("text-count"),
  };

  const state = {
    url: websocketUrl(),
    name: "",
    socket: null,
    connectionId: null,
    wanted: false, // the user wants to be connected: reconnect when the socket drops
    attempt: 0,
    reconnectTimer: null,
    pingTimer: null,
    rooms: new Map(), // room -> {members: Map(id -> name), messages: [], seen: Set, pending: []}
    current: null,
    lastAction: null,
  };

  function positiveNumber(value, fallback) {
    const n = Number(value);
    return value !== null && Number.isFinite(n) && n > 0 ? n : fallback;
  }

  // ?url=wss://... points the page at a deployed stage. Otherwise the page talks to the server
  // it came from: the local gateway serves this page at / and the WebSocket at /<stage>.
  function websocketUrl() {
    const explicit = params.get("url");
    if (explicit) return explicit;
    const stage = (params.get("stage") || "dev").replace(/^\/+|\/+$/g, "");
    if (!window.location.host) return `ws://127.0.0.1:3001/${stage}`;
    const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
    return `${scheme}//${window.location.host}/${stage}`;
  }

  function utf8Bytes(text) {
    return new TextEncoder().encode(text).length;
  }

  function charCount(text) {
    return Array.from(text).length; // code points, as the handler counts them
  }

  function formatBytes(n) {
    return n >= 1024 ? `${(n / 1024).toFixed(1)} KB` : `${n} bytes`;
  }

  // ---- persistence: a reload keeps the name and the rooms ----

  function savedRooms() {
    try {
      const rooms = JSON.parse(sessionStorage.getItem(ROOMS_KEY) || "[]");
      return Array.isArray(rooms) ? rooms.filter((r) => ROOM_RE.test(r)) : [];
    } catch {
      return [];
    }
  }

  function saveRooms() {
    sessionStorage.setItem(ROOMS_KEY, JSON.stringify([...state.rooms.keys()]));
    if (state.current) sessionStorage.setItem(CURRENT_KEY, state.current);
    else sessionStorage.removeItem(CURRENT_KEY);
  }

  // ---- status and errors ----

  function setStatus(text, pageState) {
    ui.status.textContent = text;
    if (pageState) document.body.dataset.state = pageState;
  }

  function showError(text) {
    ui.errorText.textContent = text;
    ui.error.hidden = false;
  }

  function clearError() {
    ui.error.hidden = true;
    ui.errorText.textContent = "";
  }

  // ---- connection ----

  function connect() {
    clearTimeout(state.reconnectTimer);
    state.reconnectTimer = null;
    let socket;
    try {
      const url = new URL(state.url);
      url.searchParams.set("name", state.name);
      socket = new WebSocket(url.toString());
    } catch (err) {
      showError(`Cannot open ${state.url}: ${err.message}`);
      return;
    }
    state.socket = socket;
    setStatus(state.attempt ? "Reconnecting…" : "Connecting…", "connecting");

    socket.addEventListener("open", () => {
      if (socket !== state.socket) return;
      setStatus(`Connected as ${state.name}`, "connected");
      setComposerEnabled(true);
      send({ action: "hello", name: state.name });
      // Rejoin every room after a reconnect: the new connection has a new id and no rooms.
      for (const room of state.rooms.keys()) send({ action: "join", room });
      startPing();
    });

    socket.addEventListener("message", (event) => {
      if (socket !== state.socket) return;
      if (typeof event.data !== "string") return; // the protocol is JSON text only
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch {
        showError("The server sent a frame that is not JSON.");
        return;
      }
      handleFrame(frame);
    });

    socket.addEventListener("close", (event) => {
      if (socket !== state.socket) return;
      state.socket = null;
      state.connectionId = null;
      delete document.body.dataset.connectionId;
      stopPing();
      failPending();
      setComposerEnabled(false);
      if (event.code === 1009) {
        showError("The server closed the connection: a message was too large (close code 1009).");
      }
      if (state.wanted) scheduleReconnect(event.code);
      else setStatus("Not connected", "signed-out");
    });
  }

  function isOpen() {
    return Boolean(state.socket && state.socket.readyState === WebSocket.OPEN);
  }

  function scheduleReconnect(code) {
    const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** state.attempt);
    // "Equal jitter": half the ceiling for sure, the other half at random.
    const delay = Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
    state.attempt += 1;
    const seconds = Math.max(1, Math.round(delay / 1000));
    setStatus(
      `Connection lost${code ? ` (code ${code})` : ""}; reconnecting in ${seconds}s…`,
      "reconnecting",
    );
    state.reconnectTimer = setTimeout(connect, delay);
  }

  function disconnect() {
    state.wanted = false;
    clearTimeout(state.reconnectTimer);
    stopPing();
    const socket = state.socket;
    state.socket = null;
    if (socket) socket.close(1000, "bye");
    setStatus("Not connected", "signed-out");
  }

  function startPing() {
    stopPing();
    state.pingTimer = setInterval(() => send({ action: "ping" }), PING_MS);
  }

  function stopPing() {
    clearInterval(state.pingTimer);
    state.pingTimer = null;
  }

  // A fresh id for a "say": 8-64 letters, digits, "-" or "_", as the server requires.
  function newMessageId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return `m${Date.now().toString(36)}${Math.random().toString(36).slice(2, 12)}`;
  }

  // Sends one JSON message; refuses (with a visible error) what API Gateway would refuse.
  function send(message) {
    const payload = JSON.stringify(message);
    const size = utf8Bytes(payload);
    if (size > MAX_MESSAGE_BYTES) {
      showError(
        `Message too large: ${formatBytes(size)} after encoding; ` +
          `API Gateway accepts at most ${formatBytes(MAX_MESSAGE_BYTES)} per message. Nothing was sent.`,
      );
      return false;
    }
    if (!isOpen()) {
      showError("Not connected: the message was not sent.");
      return false;
    }
    state.socket.send(payload);
    state.lastAction = message.action;
    return true;
  }

  // ---- server frames ----

  function handleFrame(frame) {
    if (frame === null || typeof frame !== "object") return;
    switch (frame.type) {
      case "hello":
        // The handler answered: the connection works, so the next drop starts backoff afresh.
        state.attempt = 0;
        state.connectionId = frame.connectionId || null;
        // Shown for debugging (and for tests): the id the @connections API knows this tab by.
        document.body.dataset.connectionId = state.connectionId || "";
        if (typeof frame.name === "string" && frame.name) state.name = frame.name;
        setStatus(`Connected as ${state.name}`, "connected");
        break;
      case "joined":
        onJoined(frame);
        break;
      case "left":
        onLeft(frame.room);
        break;
      case "presence":
        onPresence(frame);
        break;
      case "members":
        if (state.rooms.has(frame.room)) {
          setMembers(frame.room, frame.members);
          if (frame.room === state.current) renderMembers();
        }
        break;
      case "message":
        addMessage(frame.room, frame);
        break;
      case "sent":
        onSent(frame);
        break;
      case "pong":
        break;
      case "error":
        onError(frame.message || frame.code || "The server reported an error.", frame.code);
        break;
      default:
        // API Gateway's own error frames: {"message": "Forbidden", "connectionId": ..., ...}
        if (typeof frame.message === "string") onError(`Server: ${frame.message}`);
    }
  }

  function roomState(room) {
    let r = state.rooms.get(room);
    if (!r) {
      r = { members: new Map(), messages: [], seen: new Set(), pending: [], joined: false };
      state.rooms.set(room, r);
    }
    return r;
  }

  function setMembers(room, members) {
    const r = roomState(room);
    r.members = new Map();
    for (const m of Array.isArray(members) ? members : []) {
      if (m && m.connectionId) r.members.set(m.connectionId, m.name || "anonymous");
    }
  }

  function onJoined(frame) {
    if (typeof frame.room !== "string") return;
    const first = !state.rooms.has(frame.room);
    const r = roomState(frame.room);
    r.joined = true;
    setMembers(frame.room, frame.members);
    if (state.connectionId) r.members.set(state.connectionId, state.name);
    for (const message of Array.isArray(frame.history) ? frame.history : []) {
      addMessage(frame.room, message, { quiet: true });
    }
    if (first || !state.current) switchRoom(frame.room);
    else if (frame.room === state.current) renderRoom();
    renderRooms();
    saveRooms();
  }

  function onLeft(room) {
    if (!state.rooms.has(room)) return;
    state.rooms.delete(room);
    if (state.current === room) state.current = state.rooms.keys().next().value || null;
    saveRooms();
    renderRooms();
    renderRoom();
  }

  function onPresence(frame) {
    if (!state.rooms.has(frame.room)) return;
    const r = roomState(frame.room);
    const who = frame.name || "someone";
    if (frame.event === "join") r.members.set(frame.connectionId, who);
    else r.members.delete(frame.connectionId);
    addNotice(frame.room, frame.event === "join" ? `${who} joined` : `${who} left`);
    if (frame.room === state.current) renderMembers();
  }

  function onSent(frame) {
    const r = state.rooms.get(frame.room);
    if (!r) return;
    if (frame.inProgress) return; // a repeat of a message the server is still delivering
    let index = r.pending.findIndex((m) => m.id === frame.id);
    if (index < 0) index = 0;
    const [pending] = r.pending.splice(index, 1);
    if (!pending) return;
    pending.id = frame.id;
    pending.ts = frame.ts;
    // "failed": members still connected that did not get it (the server ran out of retries).
    pending.undelivered = Number(frame.failed) || 0;
    pending.status = pending.undelivered > 0 ? "partial" : "sent";
    if (frame.id) r.seen.add(frame.id);
    if (frame.room === state.current) renderMessages();
  }

  function onError(text, code) {
    showError(text);
    // Error frames carry no reference to the request; a failed "say" is the oldest one waiting.
    if (state.lastAction === "say" || code === "payload_too_large") {
      for (const r of state.rooms.values()) {
        const pending = r.pending.shift();
        if (pending) {
          pending.status = "failed";
          break;
        }
      }
      renderMessages();
    }
  }

  // Messages still waiting for "sent" when the connection drops may or may not have arrived.
  function failPending() {
    for (const r of state.rooms.values()) {
      r.joined = false; // a new connection has to join again
      for (const m of r.pending) m.status = "failed";
      r.pending = [];
    }
    renderMessages();
  }

  function addMessage(room, message, { quiet = false } = {}) {
    if (!state.rooms.has(room) || !message || typeof message.text !== "string") return;
    const r = roomState(room);
    if (message.id) {
      if (r.seen.has(message.id)) {
        // History after a reconnect repeats what we have; for our own message whose "sent" was
        // lost with the connection, it also shows that the message was stored.
        const own = r.messages.find((m) => m.mine && m.id === message.id && m.status === "failed");
        if (own) {
          Object.assign(own, { ts: message.ts, status: "sent" });
          if (room === state.current) renderMessages();
        }
        return;
      }
      r.seen.add(message.id);
    }
    // Our own message whose "sent" was lost with the connection: the history shows it arrived.
    const unconfirmed = r.messages.find(
      (m) => m.mine && !m.id && m.status === "failed" && m.text === message.text &&
        message.name === state.name,
    );
    if (unconfirmed) {
      Object.assign(unconfirmed, { id: message.id, ts: message.ts, status: "sent" });
      r.messages.sort((a, b) => (a.ts || 0) - (b.ts || 0));
      if (room === state.current) renderMessages();
      return;
    }
    r.messages.push({
      kind: "message",
      id: message.id,
      name: message.name || "anonymous",
      text: message.text,
      ts: message.ts,
      // History after a reload holds our own earlier messages, sent from an older connection.
      mine: message.connectionId === state.connectionId || message.name === state.name,
      status: "received",
    });
    r.messages.sort((a, b) => (a.ts || 0) - (b.ts || 0));
    if (room === state.current) renderMessages();
    else if (!quiet) {
      r.unread = (r.unread || 0) + 1;
      renderRooms();
    }
  }

  function addNotice(room, text) {
    const r = roomState(room);
    r.messages.push({ kind: "notice", text, ts: Date.now() });
    if (room === state.current) renderMessages();
  }

  // ---- rendering (textContent only) ----

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function switchRoom(room) {
    state.current = room;
    const r = state.rooms.get(room);
    if (r) r.unread = 0;
    saveRooms();
    renderRooms();
    renderRoom();
    if (room && isOpen()) send({ action: "members", room });
  }

  function renderRooms() {
    ui.rooms.replaceChildren();
    for (const [room, r] of state.rooms) {
      const li = el("li");
      const button = el("button", "room-button", `# ${room}`);
      button.type = "button";
      button.dataset.room = room;
      if (room === state.current) button.setAttribute("aria-current", "true");
      if (r.unread) {
        button.append(el("span", "badge", String(r.unread)));
        button.setAttribute("aria-label", `${room}, ${r.unread} unread`);
      }
      button.addEventListener("click", () => {
        switchRoom(room);
        ui.text.focus();
      });
      li.append(button);
      ui.rooms.append(li);
    }
  }

  function renderRoom() {
    ui.roomTitle.textContent = state.current ? `# ${state.current}` : "No room yet";
    ui.leave.hidden = !state.current;
    setComposerEnabled(isOpen());
    renderMembers();
    renderMessages();
  }

  function renderMembers() {
    ui.members.replaceChildren();
    const r = state.current && state.rooms.get(state.current);
    if (!r) return;
    const names = [...r.members.entries()].map(([id, name]) => ({ id, name }));
    names.sort((a, b) => a.name.localeCompare(b.name));
    for (const { id, name } of names) {
      const li = el("li", "member", name);
      if (id === state.connectionId) li.append(el("span", "you", " (you)"));
      ui.members.append(li);
    }
  }

  // The log is an ARIA live region: new messages are appended (and announced) one by one; only a
  // room switch or a reordering (history merged in) rebuilds it.
  const nodes = new WeakMap(); // message -> its <li>
  let shown = { room: null, list: [] };

  function fillMessageNode(li, m) {
    li.className = `message${m.mine ? " mine" : ""} ${m.status}`;
    if (m.id) li.dataset.id = m.id;
    const meta = el("div", "meta");
    meta.append(el("span", "author", m.name));
    if (m.ts) {
      const time = el("time", "time", new Date(m.ts).toLocaleTimeString());
      time.dateTime = new Date(m.ts).toISOString();
      meta.append(time);
    }
    if (m.status === "pending") meta.append(el("span", "flag", "sending…"));
    if (m.status === "failed") meta.append(el("span", "flag", "not sent"));
    if (m.status === "partial") {
      const who = m.undelivered === 1 ? "1 member" : `${m.undelivered} members`;
      meta.append(el("span", "flag", `not delivered to ${who}`));
    }
    li.replaceChildren(meta, el("p", "text", m.text));
    li.dataset.status = m.status;
  }

  function nodeFor(m) {
    let li = nodes.get(m);
    if (!li) {
      li = m.kind === "notice" ? el("li", "notice", m.text) : el("li");
      if (m.kind !== "notice") fillMessageNode(li, m);
      nodes.set(m, li);
    } else if (m.kind !== "notice" && li.dataset.status !== m.status) {
      fillMessageNode(li, m);
    }
    return li;
  }

  function renderMessages() {
    const r = state.current && state.rooms.get(state.current);
    const atBottom =
      ui.messages.scrollHeight - ui.messages.scrollTop - ui.messages.clientHeight < 40;
    const list = r ? r.messages : [];
    const extends_ =
      shown.room === state.current &&
      shown.list.length <= list.length &&
      shown.list.every((m, i) => list[i] === m);
    if (extends_) {
      shown.list.forEach(nodeFor); // refreshes status changes in place
      for (const m of list.slice(shown.list.length)) ui.messages.append(nodeFor(m));
    } else {
      ui.messages.replaceChildren(...list.map(nodeFor));
    }
    shown = { room: state.current, list: list.slice() };
    if (atBottom || (list.length && list[list.length - 1].mine)) {
      ui.messages.scrollTop = ui.messages.scrollHeight;
    }
  }

  function setComposerEnabled(enabled) {
    const r = state.current && state.rooms.get(state.current);
    const on = enabled && Boolean(r && r.joined); // the handler refuses "say" before "join"
    ui.text.disabled = !on;
    ui.send.disabled = !on;
  }

  function updateCount() {
    const n = charCount(ui.text.value);
    ui.count.textContent = n ? `${n} / ${MAX_TEXT_CHARS}` : "";
    ui.count.classList.toggle("over", n > MAX_TEXT_CHARS);
  }

  // ---- user actions ----

  function signIn(name) {
    state.name = name;
    localStorage.setItem(NAME_KEY, name);
    state.wanted = true;
    state.attempt = 0;
    ui.signIn.hidden = true;
    ui.chat.hidden = false;
    ui.signOut.hidden = false;
    renderRooms();
    renderRoom();
    connect();
    ui.room.focus();
  }

  ui.signInForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const name = ui.name.value.trim();
    if (!name || charCount(name) > 32) {
      showError("Pick a name of 1 to 32 characters.");
      return;
    }
    clearError();
    signIn(name);
  });

  ui.signOut.addEventListener("click", () => {
    disconnect();
    state.rooms.clear();
    state.current = null;
    saveRooms();
    ui.chat.hidden = true;
    ui.signOut.hidden = true;
    ui.signIn.hidden = false;
    ui.name.focus();
  });

  ui.joinForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const room = ui.room.value.trim();
    if (!ROOM_RE.test(room)) {
      showError("Room names are 1 to 64 letters, digits, '-' or '_'.");
      return;
    }
    if (state.rooms.has(room)) {
      switchRoom(room);
    } else if (isOpen()) {
      if (!send({ action: "join", room })) return;
    } else {
      // Still connecting: the room is joined with the others as soon as the socket opens.
      roomState(room);
      switchRoom(room);
    }
    ui.room.value = "";
    ui.text.focus();
  });

  ui.leave.addEventListener("click", () => {
    const room = state.current;
    if (!room) return;
    if (!send({ action: "leave", room })) onLeft(room);
  });

  ui.sayForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const room = state.current;
    const text = ui.text.value;
    if (!room || !text.trim()) return;
    // The id makes sending the same message again safe: the server stores and delivers it once.
    const id = newMessageId();
    if (!send({ action: "say", room, text, id })) return; // the error is already on screen
    clearError();
    const r = roomState(room);
    r.seen.add(id);
    const message = {
      kind: "message",
      id,
      name: state.name,
      text,
      ts: Date.now(),
      mine: true,
      status: "pending",
    };
    r.pending.push(message);
    r.messages.push(message);
    ui.text.value = "";
    updateCount();
    renderMessages();
    ui.text.focus();
  });

  ui.text.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      ui.sayForm.requestSubmit();
    }
  });
  ui.text.addEventListener("input", updateCount);
  // Back online after a network outage: try now instead of waiting out the backoff.
  window.addEventListener("online", () => {
    if (state.wanted && !state.socket) connect();
  });
  ui.errorClose.addEventListener("click", clearError);

  // ---- start ----

  ui.serverUrl.textContent = state.url;
  const remembered = params.get("name") || localStorage.getItem(NAME_KEY) || "";
  ui.name.value = remembered;
  const rooms = savedRooms();
  if (remembered && rooms.length) {
    // A reload: reconnect straight away and rejoin the rooms; the server sends their history.
    for (const room of rooms) roomState(room);
    const current = sessionStorage.getItem(CURRENT_KEY);
    state.current = rooms.includes(current) ? current : rooms[0];
    signIn(remembered);
  }
})();
