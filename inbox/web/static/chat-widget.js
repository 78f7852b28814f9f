/* The desk's live-chat widget, for any site: <script src="BASE/chat/widget.js" data-widget="K" async>.
   Vanilla JavaScript, no framework. It lives in a closed Shadow DOM (the host page's styles
   cannot reach it, its scripts cannot read it) and speaks the protocol of docs/chat-protocol.md.
   The visitor's token, the last message number seen and the messages not yet acked are kept in
   localStorage, so the chat survives reloads and other tabs; a lost connection is retried
   with backoff, unacked messages are sent again under their client ids (stored once), and the
   conversation resumes from the last number seen.
   Under the topic field, while the visitor types, articles of the desk's help centre
   (/help/suggest); window.InboxChat.setSuggester(fn) replaces them: fn(topic) returns a
   promise of [{title, url}], or null turns them off.
   Files (screenshots and PDFs, chosen or pasted) go over HTTP (POST /chat/files), each
   answered with an upload token the next message carries. */
(function () {
  "use strict";
  var script = document.currentScript || document.querySelector("script[data-widget]");
  if (!script || window.__inboxChatLoaded) return;
  window.__inboxChatLoaded = true;
  var widgetKey = script.getAttribute("data-widget") || "";
  var base = new URL(script.src, location.href);
  var origin = base.origin;
  var wsUrl = (base.protocol === "https:" ? "wss://" : "ws://") + base.host + "/chat/ws?widget=" + encodeURIComponent(widgetKey);
  var storeKey = "inbox-chat:" + origin + ":" + widgetKey;
  var HEARTBEAT_MS = 25000, PONG_WAIT_MS = 10000, TYPING_EVERY_MS = 2000, TYPING_IDLE_MS = 4000;
  // What the desk takes (it checks again, by the bytes): the visitor hears at once otherwise.
  var FILE_TYPES = ["image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf"];
  var MAX_FILE_BYTES = 5 * 1024 * 1024, MAX_FILES = 3;
  var filesUrl = origin + "/chat/files?widget=" + encodeURIComponent(widgetKey);

  var api = window.InboxChat = window.InboxChat || {};
  // The desk's own help centre suggests articles for the topic, unless the site sets another
  // suggester (or null: none).
  var suggester = function (topic) {
    if (topic.trim().length < 3) return [];
    var lang = document.documentElement.lang;
    var url = origin + "/help/suggest?q=" + encodeURIComponent(topic) + (lang ? "&lang=" + encodeURIComponent(lang) : "");
    return fetch(url, { credentials: "omit" })
      .then(function (r) { return r.ok ? r.json() : { items: [] }; })
      .then(function (body) { return body.items || []; });
  };
  api.setSuggester = function (fn) { suggester = typeof fn === "function" ? fn : null; };

  // -- what survives reloads ------------------------------------------------------------------
  function load() {
    try { return JSON.parse(localStorage.getItem(storeKey) || "{}") || {}; } catch (e) { return {}; }
  }
  // A new key for each visit of the pre-chat form: the links it suggests carry it, and so does
  // hello, so the desk can tell a visitor an article answered from one who wrote after all.
  function newVisit() {
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return btoa(String.fromCharCode.apply(null, bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  var saved = load();
  var state = {
    visit: saved.visit || newVisit(),
    token: saved.token || null,
    name: saved.name || "",
    email: saved.email || "",
    lastSeq: saved.lastSeq || 0,
    pending: saved.pending || [], // [{client_id, text, attachments, files}] not acked yet
    unread: saved.unread || 0,
    rated: !!saved.rated,
    reference: saved.reference || "",
    started: !!saved.started
  };
  function persist() {
    try { localStorage.setItem(storeKey, JSON.stringify(state)); } catch (e) { /* private mode */ }
  }
  window.addEventListener("storage", function (event) {
    if (event.key !== storeKey) return;
    var other = load();
    if (other.token && !state.token) state.token = other.token;
    if (other.started && !state.started) { state.started = true; showChat(); }
  });

  // -- the shadow root --------------------------------------------------------------------------
  var host = document.createElement("div");
  host.setAttribute("data-inbox-chat", "");
  var root = host.attachShadow({ mode: "closed" });
  var sheet = document.createElement("link");
  sheet.rel = "stylesheet";
  sheet.href = origin + "/chat/widget.css";
  root.appendChild(sheet);

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") node.textContent = attrs[k]; else node.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { node.appendChild(c); });
    return node;
  }

  var badge = el("span", { "class": "badge", "aria-hidden": "true", hidden: "" });
  // Icons (lucide's), drawn here: no font has to carry them.
  var SVG = "http://www.w3.org/2000/svg";
  function icon(d, size) {
    var svg = document.createElementNS(SVG, "svg");
    [["viewBox", "0 0 24 24"], ["width", size], ["height", size], ["fill", "none"], ["stroke", "currentColor"],
     ["stroke-width", "2"], ["stroke-linecap", "round"], ["stroke-linejoin", "round"], ["aria-hidden", "true"]]
      .forEach(function (a) { svg.setAttribute(a[0], a[1]); });
    var path = document.createElementNS(SVG, "path");
    path.setAttribute("d", d);
    svg.appendChild(path);
    return svg;
  }
  var bubble = icon("M7.9 20A9 9 0 1 0 4 16.1L2 22Z", "26"); // message-circle
  var launcher = el("button", { type: "button", "class": "launcher", "aria-label": "Chat with us", "aria-expanded": "false", "aria-controls": "inbox-chat-panel" }, [
    bubble, badge
  ]);
  var closeButton = el("button", { type: "button", "class": "close", "aria-label": "Close the chat", text: "×" });
  var referenceLine = el("p", { "class": "reference", hidden: "" });
  var header = el("header", {}, [el("h2", { id: "inbox-chat-title", text: "Chat with us" }), closeButton]);

  // The pre-chat form: name, email (a claim until proven) and topic, with suggestions.
  var nameInput = el("input", { id: "inbox-chat-name", name: "name", autocomplete: "name", maxlength: "200" });
  var emailInput = el("input", { id: "inbox-chat-email", name: "email", type: "email", autocomplete: "email", maxlength: "320" });
  var topicInput = el("textarea", { id: "inbox-chat-topic", name: "topic", rows: "3", maxlength: "4000", required: "" });
  var suggestions = el("ul", { "class": "suggestions", "aria-label": "Articles that may help", hidden: "" });
  var startButton = el("button", { type: "submit", "class": "primary", text: "Start chat" });
  // Outside the desk's hours, or with its queue full, the desk says so (the availability
  // frame): the visitor leaves a message instead.
  var notice = el("p", { "class": "notice", role: "status", hidden: "" });
  var emailLabel = el("label", { "for": "inbox-chat-email", text: "Your email (optional)" });
  var form = el("form", { "class": "prechat" }, [
    notice,
    el("label", { "for": "inbox-chat-name", text: "Your name" }), nameInput,
    emailLabel, emailInput,
    el("label", { "for": "inbox-chat-topic", text: "How can we help?" }), topicInput,
    suggestions, startButton
  ]);

  // A list of messages inside a live region: screen readers announce each new one.
  var log = el("ol", { "class": "message-list" });
  var logBox = el("div", { "class": "messages", role: "log", "aria-live": "polite", "aria-label": "Conversation" }, [log]);
  var typingLine = el("p", { "class": "typing", "aria-live": "polite" });
  var status = el("p", { "class": "status", role: "status" });
  var input = el("textarea", { id: "inbox-chat-input", rows: "2", maxlength: "4000", "aria-label": "Your message", placeholder: "Write a message…" });
  var sendButton = el("button", { type: "submit", "class": "primary", text: "Send" });
  var endButton = el("button", { type: "button", "class": "end", text: "End chat" });
  var newButton = el("button", { type: "button", "class": "primary", hidden: "", text: "Start a new chat" });
  // Files for the next message: a button (or a screenshot pasted into the input), the files
  // sent so far listed above the input, each with a button that takes it off again.
  var fileInput = el("input", { type: "file", accept: FILE_TYPES.join(","), multiple: "", hidden: "", tabindex: "-1" });
  var attachButton = el("button", { type: "button", "class": "attach", "aria-label": "Attach a screenshot or PDF", title: "Attach a screenshot or PDF" }, [
    icon("m21.44 11.05-9.19 9.19a6 6 0 0 1-8.49-8.49l8.57-8.57A4 4 0 1 1 18 8.84l-8.59 8.57a2 2 0 0 1-2.83-2.83l8.49-8.48", "20") // paperclip
  ]);
  var readyList = el("ul", { "class": "ready-files", "aria-label": "Files to send", hidden: "" });
  var problem = el("p", { "class": "problem", role: "alert", hidden: "" });
  var composer = el("form", { "class": "composer" }, [attachButton, fileInput, input, sendButton]);
  // Once the chat has ended: a score from 1 to 5 (the desk's satisfaction survey) and the
  // transcript by mail (to an address the visitor has confirmed).
  var scores = [1, 2, 3, 4, 5].map(function (n) {
    return el("button", { type: "button", "class": "score", "data-score": String(n), "aria-label": n + " of 5", text: String(n) });
  });
  var rating = el("fieldset", { "class": "rating", hidden: "" }, [el("legend", { text: "How did we do? 1 is poor, 5 excellent." })].concat(scores));
  var transcriptButton = el("button", { type: "button", "class": "transcript", hidden: "", text: "Mail me the transcript" });
  var chatView = el("div", { "class": "chat", hidden: "" }, [referenceLine, logBox, typingLine, status, problem, readyList, composer, rating, el("div", { "class": "actions" }, [transcriptButton, endButton, newButton])]);
  var panel = el("section", { id: "inbox-chat-panel", "class": "panel", role: "dialog", "aria-labelledby": "inbox-chat-title", hidden: "" }, [header, form, chatView]);
  root.appendChild(panel);
  root.appendChild(launcher);

  // -- showing ----------------------------------------------------------------------------------
  var isOpen = false;
  function setUnread(n) {
    state.unread = n;
    persist();
    badge.textContent = n > 9 ? "9+" : String(n);
    if (n > 0) badge.removeAttribute("hidden"); else badge.setAttribute("hidden", "");
    launcher.setAttribute("aria-label", n > 0 ? "Chat with us, " + n + " unread" : "Chat with us");
  }
  function openPanel() {
    isOpen = true;
    panel.removeAttribute("hidden");
    launcher.setAttribute("aria-expanded", "true");
    setUnread(0);
    fitViewport();
    (state.started ? input : nameInput).focus();
    if (!socket) connect();
  }
  function closePanel() {
    isOpen = false;
    panel.setAttribute("hidden", "");
    launcher.setAttribute("aria-expanded", "false");
    launcher.focus();
  }
  function showChat() {
    form.setAttribute("hidden", "");
    chatView.removeAttribute("hidden");
  }
  launcher.addEventListener("click", function () { if (isOpen) closePanel(); else openPanel(); });
  closeButton.addEventListener("click", closePanel);
  panel.addEventListener("keydown", function (event) { if (event.key === "Escape") closePanel(); });

  // On phones the keyboard shrinks the visual viewport: the panel follows it, so the input stays in view.
  function fitViewport() {
    var vv = window.visualViewport;
    if (!vv || !isOpen) return;
    panel.style.setProperty("--inbox-chat-height", Math.floor(vv.height) + "px");
    panel.style.setProperty("--inbox-chat-top", Math.floor(vv.offsetTop) + "px");
  }
  if (window.visualViewport) {
    window.visualViewport.addEventListener("resize", fitViewport);
    window.visualViewport.addEventListener("scroll", fitViewport);
  }

  var seen = {}; // seq -> true, in the current conversation
  function addMessage(frame) {
    if (frame.seq) {
      if (seen[frame.seq]) return;
      seen[frame.seq] = true;
      if (frame.seq > state.lastSeq) state.lastSeq = frame.seq;
    }
    if (frame.client_id) {
      var mine = root.querySelector('[data-client-id="' + CSS.escape(frame.client_id) + '"]');
      if (mine) {
        mine.classList.remove("unsent");
        mine.setAttribute("data-seq", frame.seq);
        var shown = mine.querySelector("ul.files");
        if (shown && frame.attachments) mine.replaceChild(fileList(frame.attachments), shown); // now with links
        return;
      }
    }
    var who = frame.author === "visitor" ? "You" : (frame.name || (frame.author === "agent" ? "Agent" : ""));
    var item = el("li", { "class": "message " + frame.author }, [el("span", { "class": "who", text: who })]);
    if (frame.text) item.appendChild(el("span", { "class": "text", text: frame.text }));
    if (frame.attachments && frame.attachments.length) item.appendChild(fileList(frame.attachments));
    if (frame.seq) item.setAttribute("data-seq", frame.seq);
    if (frame.client_id) item.setAttribute("data-client-id", frame.client_id);
    if (frame.unsent) item.classList.add("unsent");
    log.appendChild(item);
    logBox.scrollTop = logBox.scrollHeight;
    if (!isOpen && frame.author !== "visitor" && frame.seq) setUnread(state.unread + 1);
    persist();
  }
  // A message's files: images as thumbnails, PDFs as links, each with its name and size; a
  // file not yet stored (no url) by its name alone.
  function sizeText(bytes) {
    if (bytes >= 1024 * 1024) return (bytes / (1024 * 1024)).toFixed(1) + " MB";
    return Math.max(1, Math.round(bytes / 1024)) + " KB";
  }
  function fileList(files) {
    var list = el("ul", { "class": "files" });
    files.forEach(function (f) {
      var label = f.name + " (" + sizeText(f.size) + ")";
      var url = typeof f.url === "string" && /^https?:\/\//.test(f.url) ? f.url : "";
      var item;
      if (!url) {
        item = el("span", { "class": "file", text: label });
      } else if (/^image\//.test(f.type)) {
        item = el("a", { href: url, target: "_blank", rel: "noopener", "class": "thumb" }, [
          el("img", { src: url, alt: f.name, loading: "lazy" }),
          el("span", { "class": "file-name", text: label })
        ]);
      } else {
        item = el("a", { href: url, target: "_blank", rel: "noopener", "class": "file", text: label });
      }
      list.appendChild(el("li", {}, [item]));
    });
    return list;
  }
  function setReference(reference) {
    if (!reference) return;
    state.reference = reference;
    referenceLine.textContent = "Your reference is " + reference;
    referenceLine.removeAttribute("hidden");
    persist();
  }

  // -- the socket -------------------------------------------------------------------------------
  var socket = null, retries = 0, stopped = false, greeted = false;
  function messageFrame(p) {
    var frame = { type: "message", client_id: p.client_id, text: p.text };
    if (p.attachments && p.attachments.length) frame.attachments = p.attachments;
    return frame;
  }
  function send(frame) {
    if (socket && socket.readyState === 1 && greeted) { socket.send(JSON.stringify(frame)); return true; }
    return false;
  }
  function connect() {
    if (socket) return;
    stopped = false;
    greeted = false;
    status.textContent = "Connecting…";
    var ws = socket = new WebSocket(wsUrl), beat = null, pong = null;
    ws.onopen = function () {
      var hello = { type: "hello", token: state.token };
      if (state.name) hello.name = state.name;
      if (state.email) hello.email = state.email;
      if (api.identity) hello.identity = api.identity;
      hello.visit = state.visit;
      ws.send(JSON.stringify(hello));
      beat = setInterval(function () {
        if (ws.readyState !== 1) return;
        ws.send(JSON.stringify({ type: "ping" }));
        clearTimeout(pong);
        pong = setTimeout(function () { ws.close(); }, PONG_WAIT_MS);
      }, HEARTBEAT_MS);
    };
    ws.onmessage = function (event) {
      if (socket !== ws) return; // a socket given up for a newer one, which resumes
      var frame;
      try { frame = JSON.parse(event.data); } catch (e) { return; }
      if (frame.type === "pong") clearTimeout(pong);
      else receive(frame);
    };
    ws.onclose = function (event) {
      clearInterval(beat);
      clearTimeout(pong);
      if (socket !== ws) return; // given up already: its end is not the newer socket's
      socket = null;
      greeted = false;
      if (event.code === 1000 && event.reason === "idle") { status.textContent = "Paused while you were away."; return; }
      if (stopped) return;
      var delay = Math.min(30000, 1000 * Math.pow(2, retries++)) * (0.5 + Math.random() / 2);
      status.textContent = "Connection lost; trying again…";
      setTimeout(connect, delay);
    };
  }
  function receive(frame) {
    switch (frame.type) {
      case "welcome":
        retries = 0;
        greeted = true;
        status.textContent = "";
        state.token = frame.token;
        if (frame.conversation) {
          state.started = true;
          showChat();
          setReference(frame.conversation.reference);
          frame.conversation.messages.forEach(addMessage);
          if (frame.conversation.status === "ended") chatEnded();
          if (frame.conversation.last_seq > state.lastSeq) send({ type: "resume", since: state.lastSeq });
        }
        persist();
        state.pending.forEach(function (p) { send(messageFrame(p)); });
        break;
      case "ack":
        state.pending = state.pending.filter(function (p) { return p.client_id !== frame.client_id; });
        setReference(frame.reference);
        var mine = root.querySelector('[data-client-id="' + CSS.escape(frame.client_id) + '"]');
        if (mine) mine.classList.remove("unsent");
        persist();
        break;
      case "message":
        addMessage(frame);
        if (frame.author === "agent") typingLine.textContent = "";
        break;
      case "typing":
        typingLine.textContent = frame.active ? (frame.name || "Someone") + " is typing…" : "";
        break;
      case "availability":
        var away = frame.state !== "open";
        notice.textContent = away ? frame.text : "";
        if (away) notice.removeAttribute("hidden"); else notice.setAttribute("hidden", "");
        startButton.textContent = away ? "Leave a message" : "Start chat";
        emailLabel.textContent = away ? "Your email, for our answer" : "Your email (optional)";
        break;
      case "agent":
        status.textContent = frame.name + " is with you now.";
        break;
      case "queue":
        var minutes = frame.wait_seconds ? Math.max(1, Math.round(frame.wait_seconds / 60)) : 0;
        status.textContent = "You are number " + frame.position + " in the queue." +
          (minutes ? " About " + minutes + (minutes === 1 ? " minute." : " minutes.") : "");
        break;
      case "ended":
        chatEnded();
        break;
      case "rated":
        rating.setAttribute("hidden", "");
        status.textContent = "Thank you for your score.";
        break;
      case "transcript_sent":
        transcriptButton.setAttribute("hidden", "");
        status.textContent = "The transcript is on its way to " + frame.to + ".";
        break;
      case "error":
        if (frame.code === "rate_limited") {
          status.textContent = "Slow down a little; your message will follow in a moment.";
          setTimeout(function () { state.pending.forEach(function (p) { if (p.client_id === frame.client_id) send(messageFrame(p)); }); }, 3000);
        } else if (frame.code === "file_refused") {
          // Its files cannot be attached (too old, or not this visitor's): it is not sent again.
          state.pending = state.pending.filter(function (p) { return p.client_id !== frame.client_id; });
          persist();
          var refused = frame.client_id && root.querySelector('[data-client-id="' + CSS.escape(frame.client_id) + '"]');
          if (refused) { refused.classList.remove("unsent"); refused.classList.add("refused"); }
          showProblem(frame.detail || "A file could not be attached; attach it again.");
        } else if (frame.code !== "idle") {
          status.textContent = frame.detail || "Something went wrong.";
        }
        break;
    }
  }
  function chatEnded() {
    typingLine.textContent = "";
    status.textContent = "This chat has ended. Thank you!";
    composer.setAttribute("hidden", "");
    endButton.setAttribute("hidden", "");
    newButton.removeAttribute("hidden");
    if (!state.rated) rating.removeAttribute("hidden");
    if (state.email) transcriptButton.removeAttribute("hidden");
  }
  scores.forEach(function (button) {
    button.addEventListener("click", function () {
      if (send({ type: "rate", score: Number(button.getAttribute("data-score")) })) {
        state.rated = true;
        persist();
      }
    });
  });
  transcriptButton.addEventListener("click", function () { send({ type: "transcript" }); });

  // -- writing ----------------------------------------------------------------------------------
  function newClientId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return String(Date.now()) + "-" + Math.random().toString(36).slice(2);
  }
  function say(text) {
    text = text.trim();
    if (uploading) { // shown at once, it goes as soon as its files are uploaded
      held = held ? held + "\n" + text : text;
      if (!heldItem) {
        heldItem = el("li", { "class": "message visitor unsent held" }, [
          el("span", { "class": "who", text: "You" }), el("span", { "class": "text" }),
          el("span", { "class": "note", text: "Sends when your file is uploaded…" })]);
        log.appendChild(heldItem);
      }
      heldItem.querySelector(".text").textContent = held;
      logBox.scrollTop = logBox.scrollHeight;
      return true;
    }
    if (!text && !ready.length) return false;
    var files = ready;
    ready = [];
    renderReady();
    showProblem("");
    var pending = {
      client_id: newClientId(), text: text,
      attachments: files.map(function (f) { return f.token; }),
      files: files.map(function (f) { return { name: f.name, type: f.type, size: f.size }; })
    };
    state.pending.push(pending);
    persist();
    addMessage({ author: "visitor", text: text, client_id: pending.client_id, unsent: true, attachments: pending.files });
    if (!send(messageFrame(pending)) && !socket) connect();
    return true;
  }

  // -- files --------------------------------------------------------------------------------------
  var ready = [], uploading = 0; // uploaded for the next message: [{token, name, type, size}]
  var held = null, heldFailed = false, heldItem = null; // written while files were on their way
  function showProblem(text) {
    problem.textContent = text;
    if (text) problem.removeAttribute("hidden"); else problem.setAttribute("hidden", "");
  }
  function renderReady() {
    Array.prototype.slice.call(readyList.querySelectorAll("li:not(.uploading)")).forEach(function (li) { readyList.removeChild(li); });
    ready.forEach(function (f, i) {
      var remove = el("button", { type: "button", "class": "remove", "aria-label": "Remove " + f.name, text: "×" });
      remove.addEventListener("click", function () { ready.splice(i, 1); renderReady(); input.focus(); });
      readyList.appendChild(el("li", {}, [el("span", { text: f.name + " (" + sizeText(f.size) + ")" }), remove]));
    });
    if (readyList.firstChild) readyList.removeAttribute("hidden"); else readyList.setAttribute("hidden", "");
  }
  function refusal(file) {
    if (FILE_TYPES.indexOf(file.type) < 0) return "only PNG, JPEG, GIF or WebP screenshots and PDF documents can be attached";
    if (file.size > MAX_FILE_BYTES) return "it is too large: a file may have at most 5 MB";
    if (ready.length + uploading >= MAX_FILES) return "at most " + MAX_FILES + " files go with one message";
    if (!state.token) return "the chat is still connecting; try again in a moment";
    return "";
  }
  function upload(file) {
    var name = file.name || "screenshot.png";
    var refused = refusal(file);
    if (refused) { showProblem(name + ": " + refused + "."); return; }
    showProblem("");
    var line = el("li", { "class": "uploading", text: "Sending " + name + "…" });
    readyList.appendChild(line);
    readyList.removeAttribute("hidden");
    uploading++;
    fetch(filesUrl, {
      method: "POST", credentials: "omit", body: file,
      headers: { "Content-Type": file.type, "X-Visitor-Token": state.token, "X-File-Name": encodeURIComponent(name) }
    }).then(function (response) {
      return response.json().then(function (body) {
        if (!response.ok) throw new Error(body.detail || "the desk refused it");
        ready.push(body);
      });
    }).catch(function (error) {
      var said = error instanceof TypeError ? "it could not be sent; check your connection and try again" : error.message;
      showProblem(name + ": " + said + ".");
      if (held !== null) heldFailed = true;
    }).then(function () {
      uploading--;
      readyList.removeChild(line);
      renderReady();
      if (uploading || held === null) return;
      var text = held;
      held = null;
      heldItem.remove();
      heldItem = null;
      if (heldFailed) { heldFailed = false; input.value = text; } // theirs to send without it
      else say(text);
    });
  }
  attachButton.addEventListener("click", function () { fileInput.click(); });
  fileInput.addEventListener("change", function () {
    Array.prototype.slice.call(fileInput.files || []).forEach(upload);
    fileInput.value = "";
    input.focus();
  });
  // A screenshot pasted into the input is sent as a file; pasted text stays text.
  input.addEventListener("paste", function (event) {
    var data = event.clipboardData;
    if (!data || !data.items) return;
    var files = [];
    Array.prototype.forEach.call(data.items, function (item) {
      var file = item.kind === "file" ? item.getAsFile() : null;
      if (file) files.push(file);
    });
    if (!files.length) return;
    if (Array.prototype.indexOf.call(data.types || [], "text/plain") < 0) event.preventDefault();
    files.forEach(upload);
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    state.name = nameInput.value.trim();
    state.email = emailInput.value.trim();
    state.started = true;
    persist();
    showChat();
    var topic = topicInput.value;
    if (socket) { socket.close(); socket = null; } // say hello again, with the name
    connect();
    say(topic);
    input.focus();
  });
  composer.addEventListener("submit", function (event) {
    event.preventDefault();
    if (!say(input.value)) return;
    input.value = "";
    typing(false);
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); composer.requestSubmit(); }
  });
  var typingSent = 0, typingOn = false, typingIdle = null;
  function typing(active) {
    var now = Date.now();
    clearTimeout(typingIdle);
    if (active) typingIdle = setTimeout(function () { typing(false); }, TYPING_IDLE_MS);
    if (active === typingOn && (!active || now - typingSent < TYPING_EVERY_MS)) return;
    typingOn = active;
    typingSent = now;
    send({ type: "typing", active: active });
  }
  input.addEventListener("input", function () { typing(input.value.length > 0); });
  endButton.addEventListener("click", function () { send({ type: "end" }); });
  newButton.addEventListener("click", function () {
    seen = {};
    state.lastSeq = 0;
    state.reference = "";
    state.visit = newVisit();
    persist();
    while (log.firstChild) log.removeChild(log.firstChild);
    referenceLine.setAttribute("hidden", "");
    composer.removeAttribute("hidden");
    endButton.removeAttribute("hidden");
    newButton.setAttribute("hidden", "");
    rating.setAttribute("hidden", "");
    transcriptButton.setAttribute("hidden", "");
    state.rated = false;
    status.textContent = "";
    ready = [];
    renderReady();
    showProblem("");
    input.focus();
  });

  // Suggested articles while the topic is typed, once something provides them.
  var suggestTimer = null;
  topicInput.addEventListener("input", function () {
    clearTimeout(suggestTimer);
    if (!suggester) return;
    suggestTimer = setTimeout(function () {
      Promise.resolve(suggester(topicInput.value)).then(function (articles) {
        while (suggestions.firstChild) suggestions.removeChild(suggestions.firstChild);
        (articles || []).slice(0, 5).forEach(function (a) {
          var href = a.url + (a.url.indexOf("?") < 0 ? "?" : "&") + "visit=" + state.visit;
          var link = el("a", { href: href, target: "_blank", rel: "noopener", text: a.title });
          suggestions.appendChild(el("li", {}, [link]));
        });
        if (suggestions.firstChild) suggestions.removeAttribute("hidden"); else suggestions.setAttribute("hidden", "");
      }, function () { /* no suggestions then */ });
    }, 250);
  });

  function start() {
    document.body.appendChild(host);
    nameInput.value = state.name;
    emailInput.value = state.email;
    setUnread(state.unread);
    if (state.reference) setReference(state.reference);
    if (state.started || state.token) {
      if (state.started) showChat();
      connect(); // unread messages and the badge, even with the panel closed
    }
    if (state.pending.length) {
      state.pending.forEach(function (p) { addMessage({ author: "visitor", text: p.text, client_id: p.client_id, unsent: true, attachments: p.files }); });
    }
  }
  if (document.body) start(); else document.addEventListener("DOMContentLoaded", start);
})();
