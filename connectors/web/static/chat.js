/* The web chat: sends messages and button presses to /api/chat, polls for replies delivered later. */
"use strict";

(function () {
  const R = window.RibotRender;
  const TEXT = window.RIBOT_TEXT;
  const POLL_MS = 3000;
  const RETRIES_WHILE_STARTING = 30;
  const KEEP_ENTRIES = 200;

  const $ = (id) => document.getElementById(id);
  const log = $("log");
  const input = $("composer-text");
  const statusLine = $("status");

  const known = (lang) => Object.prototype.hasOwnProperty.call(TEXT, lang);

  function preferredLanguage() {
    const saved = localStorage.getItem("ribot.lang");
    if (known(saved)) return saved;
    return (navigator.language || "en").toLowerCase().startsWith("sv") ? "sv" : "en";
  }

  /* The page speaks the conversation's language: that of ribot's latest reply. */
  function conversationLanguage(entries) {
    for (let i = entries.length - 1; i >= 0; i--) {
      const lang = entries[i].who === "bot" && entries[i].reply && entries[i].reply.language;
      if (known(lang)) return lang;
    }
    return null;
  }

  const state = {
    lang: preferredLanguage(),
    conversation: sessionStorage.getItem("ribot.conversation") || "",
    entries: [],
    delivered: 0,
    busy: false,
    urls: new Map(),
  };
  const t = () => TEXT[state.lang] || TEXT.en;

  function randomId() {
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function storageKey(name) {
    return `ribot.${name}.${state.conversation}`;
  }

  function save() {
    state.entries = state.entries.slice(-KEEP_ENTRIES);
    try {
      sessionStorage.setItem(storageKey("entries"), JSON.stringify(state.entries));
      sessionStorage.setItem(storageKey("delivered"), String(state.delivered));
    } catch (_err) {
      /* storage full or disabled: the chat still works, it just will not survive a reload */
    }
  }

  function startConversation(fresh) {
    if (fresh || !/^[A-Za-z0-9_-]{8,64}$/.test(state.conversation)) {
      state.conversation = randomId();
      sessionStorage.setItem("ribot.conversation", state.conversation);
    }
    try {
      state.entries = JSON.parse(sessionStorage.getItem(storageKey("entries")) || "[]");
    } catch (_err) {
      state.entries = [];
    }
    state.delivered = Number(sessionStorage.getItem(storageKey("delivered")) || "0") || 0;
    state.lang = conversationLanguage(state.entries) || preferredLanguage();
  }

  function setLanguage(lang) {
    state.lang = lang;
    localStorage.setItem("ribot.lang", lang);
    applyLanguage();
  }

  function setStatus(message) {
    statusLine.textContent = message || "";
  }

  /* ---- summaries: the engine's Markdown and printable HTML, offered as downloads ---- */

  function summaryUrl(summary, format) {
    const key = `${format}\u0000${summary.markdown}`;
    if (!state.urls.has(key)) {
      const blob =
        format === "md"
          ? new Blob([summary.markdown], { type: "text/markdown;charset=utf-8" })
          : new Blob([summary.html], { type: "text/html;charset=utf-8" });
      state.urls.set(key, URL.createObjectURL(blob));
    }
    return state.urls.get(key);
  }

  /* ---- rendering ---- */

  const handlers = { onAction: pressed, summaryUrl };

  function welcome() {
    return R.el("article", { class: "msg bot welcome" }, [
      R.el("h2", { class: "visually-hidden", text: t().bot }),
      R.paragraphs(`${t().welcome}\n\n${t().disclaimer}`, "lead"),
    ]);
  }

  /* A reply keeps the words of the language it was written in, its buttons included. */
  function textFor(item) {
    const lang = item.who === "bot" && item.reply && item.reply.language;
    return known(lang) ? TEXT[lang] : t();
  }

  function renderAll() {
    log.setAttribute("aria-busy", "true");
    log.replaceChildren(welcome(), ...state.entries.map((item) => R.entry(item, textFor(item), handlers)));
    log.setAttribute("aria-busy", "false");
  }

  /* New entries (already in state.entries): drawn alone, or with the whole page in a new language. */
  function append(items) {
    if (items.length === 0) return [];
    const lang = conversationLanguage(items);
    let nodes;
    if (lang && lang !== state.lang) {
      setLanguage(lang);
      nodes = Array.from(log.children).slice(-items.length);
    } else {
      nodes = items.map((item) => R.entry(item, textFor(item), handlers));
      log.append(...nodes);
    }
    nodes[nodes.length - 1].scrollIntoView({ block: "start", behavior: "smooth" });
    return nodes;
  }

  function applyLanguage() {
    const text = t();
    document.documentElement.lang = state.lang;
    document.title = text.pageTitle;
    for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = text[node.dataset.i18n];
    for (const node of document.querySelectorAll("[data-i18n-placeholder]")) {
      node.setAttribute("placeholder", text[node.dataset.i18nPlaceholder]);
    }
    log.setAttribute("aria-label", text.conversation);
    const toggle = $("lang");
    toggle.textContent = text.otherLanguage;
    toggle.setAttribute("aria-label", text.otherLanguageLabel);
    toggle.setAttribute("lang", state.lang === "en" ? "sv" : "en");
    renderAll();
  }

  /* ---- talking to the server ---- */

  /* The same message_id on every attempt: the server answers a message once however often it arrives. */
  async function post(payload) {
    for (let attempt = 0; ; attempt++) {
      let response;
      try {
        response = await fetch("/api/chat", {
          method: "POST",
          headers: { "Content-Type": "application/json", Accept: "application/json" },
          body: JSON.stringify(payload),
        });
      } catch (err) {
        if (attempt >= RETRIES_WHILE_STARTING) throw err;
        setStatus(t().offline);
        await new Promise((resolve) => setTimeout(resolve, 2000));
        continue;
      }
      if (response.status === 503 && attempt < RETRIES_WHILE_STARTING) {
        setStatus(t().starting);
        await new Promise((resolve) => setTimeout(resolve, 2000));
        continue;
      }
      const body = await response.json().catch(() => ({}));
      if (!response.ok) throw Object.assign(new Error(body.message || response.statusText), { status: response.status });
      return body;
    }
  }

  async function send(payload, echo) {
    if (state.busy) return false;
    state.busy = true;
    document.body.classList.add("busy");
    setStatus(t().sending);
    const fresh = [];
    if (echo) fresh.push({ who: "user", text: echo });
    try {
      const ids = { conversation_id: state.conversation, message_id: randomId(), language: state.lang };
      const body = await post({ ...ids, ...payload });
      for (const reply of body.replies || []) {
        fresh.push({ who: "bot", reply });
      }
      state.entries.push(...fresh);
      save();
      const nodes = append(fresh);
      setStatus("");
      focusAfter(nodes);
      return true;
    } catch (err) {
      setStatus(failure(err));
      return false;
    } finally {
      state.busy = false;
      document.body.classList.remove("busy");
    }
  }

  /* In the page's language: the server's own error text is English, for developers. */
  function failure(err) {
    if (err.status === 422 && /longer/.test(err.message)) return t().tooLong;
    if (err.status === 429) return t().limited;
    return t().failed;
  }

  function focusAfter(nodes) {
    const last = nodes[nodes.length - 1];
    const choice = last && last.querySelector("button.choice:not([disabled])");
    (choice || input).focus({ preventScroll: true });
  }

  function markChosen(group, value, only) {
    for (const button of group ? group.querySelectorAll(only || "button") : []) {
      button.disabled = Boolean(value);
      if (value && button.dataset.action === value) button.setAttribute("aria-pressed", "true");
      else button.removeAttribute("aria-pressed");
    }
  }

  async function pressed(item, value, label, group) {
    if (state.busy) return;
    const feedback = value.startsWith("feedback:");
    const only = feedback ? "button.feedback" : null;
    markChosen(group, value, only);
    const ok = await send({ action: value }, feedback ? null : label);
    if (!ok) {
      markChosen(group, null, only);
      return;
    }
    item.chosen = value;
    item.feedback = feedback;
    save();
  }

  async function poll() {
    if (document.hidden || !state.conversation) return;
    try {
      const response = await fetch(
        `/api/chat/${encodeURIComponent(state.conversation)}/messages?after=${state.delivered}`,
        { headers: { Accept: "application/json" } }
      );
      if (!response.ok) return;
      const body = await response.json();
      const messages = Array.isArray(body.messages) ? body.messages : [];
      if (messages.length === 0) return;
      // ribot's own replies arrive here too when their request was cut off (they name the message answered)
      const fresh = messages.map((m) => ({ who: m.reply && m.reply.in_reply_to ? "bot" : "person", reply: m.reply, id: m.id }));
      state.delivered = Math.max(state.delivered, ...messages.map((m) => Number(m.id) || 0));
      state.entries.push(...fresh);
      save();
      append(fresh);
      setStatus(t().newMessages);
    } catch (_err) {
      setStatus(t().offline);
    }
  }

  /* ---- wiring ---- */

  $("composer").addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) return input.focus();
    if (await send({ text }, text)) input.value = "";
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      $("composer").requestSubmit();
    }
  });
  for (const button of document.querySelectorAll("[data-send-action]")) {
    button.addEventListener("click", () => send({ action: button.dataset.sendAction }, button.textContent));
  }
  // The next message tells the server, and the conversation continues in the language chosen here.
  $("lang").addEventListener("click", () => setLanguage(state.lang === "en" ? "sv" : "en"));
  $("new-chat").addEventListener("click", () => {
    startConversation(true);
    applyLanguage();
    setStatus("");
    input.focus();
  });

  startConversation(false);
  applyLanguage();
  setInterval(poll, POLL_MS);
  document.addEventListener("visibilitychange", poll);
})();
