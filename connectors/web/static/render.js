/* Builds the DOM for chat messages. Every piece of text goes in through text nodes, never as markup. */
"use strict";

(function () {
  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children || []) {
      if (child === null || child === undefined) continue;
      node.append(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return node;
  }

  function paragraphs(text, cls) {
    const box = el("div", { class: cls || "text" });
    for (const part of String(text || "").split(/\n{2,}/)) {
      if (part.trim()) box.append(el("p", { text: part.trim() }));
    }
    return box;
  }

  /* "Section 3.2 · Division of responsibilities": the label and the title in the reply's language
     ("Footnote 3: ..." titles lose the label they already carry). */
  function sectionLabel(cite, t) {
    const id = String(cite.section || "");
    const title = String(cite.title || "");
    if (id === "meta") return [t.meta];
    if (!id) return [title];
    const footnote = /^fn(\d+)$/.exec(id);
    const label = footnote ? `${t.footnote} ${footnote[1]}` : `${t.section} ${id}`;
    const rest = footnote ? title.replace(/^(?:footnote|fotnot)\s*\d+\s*[:·-]?\s*/i, "") : title;
    if (!rest) return [label];
    return [`${label} · `, el("span", { class: "title", text: rest })];
  }

  function citations(list, t) {
    if (!Array.isArray(list) || list.length === 0) return null;
    const bySection = new Map(); // one expandable block per section, quotes in the order given
    for (const cite of list) {
      const key = String(cite.section || "");
      if (!bySection.has(key)) bySection.set(key, { cite, quotes: [] });
      const group = bySection.get(key);
      if (cite.quote && !group.quotes.includes(cite.quote)) group.quotes.push(cite.quote);
    }
    const box = el("div", { class: "sources" }, [el("h3", { text: t.sources })]);
    for (const [section, group] of bySection) {
      box.append(
        el("details", { class: "citation", "data-section": section }, [
          el("summary", {}, [el("span", { class: "section" }, sectionLabel(group.cite, t))]),
          ...group.quotes.map((quote) => el("blockquote", { text: quote })),
        ])
      );
    }
    return box;
  }

  function safeUrl(raw) {
    try {
      const url = new URL(String(raw), window.location.href);
      return ["https:", "http:", "mailto:"].includes(url.protocol) ? url.href : null;
    } catch (_err) {
      return null;
    }
  }

  function contacts(list, t) {
    if (!Array.isArray(list) || list.length === 0) return null;
    const items = list.map((contact) => {
      const url = contact.url ? safeUrl(contact.url) : null;
      return el("li", { class: "card", "data-contact": contact.id }, [
        el("h4", { text: contact.name || contact.id }),
        contact.why ? el("p", { text: contact.why }) : null,
        url ? el("a", { href: url, rel: "noopener noreferrer", target: "_blank", text: url }) : null,
      ]);
    });
    return el("div", { class: "contacts" }, [el("h3", { text: t.contacts }), el("ol", {}, items)]);
  }

  const FIXED_LABELS = {
    "triage:start": "startTriage",
    "triage:back": "back",
    "triage:restart": "restart",
    "escalate:start": "escalate",
    "summary:download": "summary",
  };

  function actionLabel(choice, t) {
    const key = FIXED_LABELS[choice.value];
    if (key) return t[key];
    if (choice.value.startsWith("feedback:up:")) return t.helpful;
    if (choice.value.startsWith("feedback:down:")) return t.notHelpful;
    return choice.label || choice.value;
  }

  function choicesOf(reply) {
    if (Array.isArray(reply.actions) && reply.actions.length) return reply.actions;
    const question = reply.question;
    if (question && Array.isArray(question.choices)) {
      return question.choices.map((c) => ({ value: `triage:answer:${question.slot}:${c.value}`, label: c.label }));
    }
    return [];
  }

  function actions(reply, entry, t, handlers) {
    const choices = choicesOf(reply);
    if (choices.length === 0) return null;
    const label = (reply.question && reply.question.text) || t.bot;
    const group = el("div", { class: "actions", role: "group", "aria-label": label });
    for (const choice of choices) {
      const feedback = choice.value.startsWith("feedback:");
      const cls = feedback ? "action feedback" : choice.value.startsWith("triage:answer:") ? "action choice" : "action";
      const button = el("button", { type: "button", class: cls, "data-action": choice.value }, [actionLabel(choice, t)]);
      const settled = entry.chosen && (!entry.feedback || feedback);
      if (settled) {
        button.disabled = true;
        if (entry.chosen === choice.value) button.setAttribute("aria-pressed", "true");
      }
      button.addEventListener("click", () => handlers.onAction(entry, choice.value, actionLabel(choice, t), group));
      group.append(button);
    }
    return group;
  }

  /* Plain-text replies are paragraphs; a paragraph may be a label line followed by a list ("- a",
     "1. a", "[ ] a", "[3.2] quote"). Such lists become real lists, or are swapped for the structured
     part of the reply that says the same (contact cards, expandable quotes). */
  const ITEM = /^\s*(?:- |\d+\. |\[ \] |\[[\w.]+\] )/;

  function listKind(items) {
    if (items.every((line) => /^\s*\d+\. /.test(line))) return "numbered";
    if (items.every((line) => /^\s*\[ \] /.test(line))) return "checklist";
    if (items.every((line) => /^\s*\[[\w.]+\] /.test(line))) return "sources";
    return "bullets";
  }

  /* Lines the server marks as key (the outcome's who carries out, who is told, who decides) are strong. */
  function plainParagraph(lines, keyLines) {
    if (!lines.some((line) => keyLines.includes(line))) return el("p", { text: lines.join("\n") });
    const parts = lines.map((line, n) => [n ? "\n" : null, keyLines.includes(line) ? el("strong", { text: line }) : line]);
    return el("p", { class: "key" }, parts.flat());
  }

  function prose(text, replace, keyLines) {
    const box = el("div", { class: "lead" });
    for (const part of String(text || "").split(/\n{2,}/)) {
      const lines = part.split("\n").filter((line) => line.trim());
      const items = lines.filter((line) => ITEM.test(line));
      if (lines.length === 0) continue;
      if (items.length === 0) {
        box.append(plainParagraph(lines, keyLines || []));
        continue;
      }
      const kind = listKind(items);
      const swapped = replace && replace(kind);
      if (swapped !== undefined) {
        if (swapped) box.append(swapped);
        continue;
      }
      const label = lines.filter((line) => !ITEM.test(line)).join("\n");
      if (label) box.append(el("p", { class: "label", text: label }));
      const list = el(kind === "numbered" ? "ol" : "ul", { class: kind });
      for (const line of items) list.append(el("li", { text: line.replace(ITEM, "") }));
      box.append(list);
    }
    return box;
  }

  /* The plain text ends with how to answer by typing a number; here there are buttons instead. */
  function withoutTypingHint(text) {
    const parts = String(text || "").split(/\n{2,}/);
    const choices = parts.findIndex((part) => part.split("\n").some((line) => /^\s*\d+\. /.test(line)));
    return choices < 0 ? text : parts.slice(0, choices + 1).join("\n\n");
  }

  function question(reply, t) {
    const asked = reply.question || {};
    let shown = false;
    const lead = prose(withoutTypingHint(reply.text), (kind) => {
      if (kind !== "numbered" || shown) return undefined;
      shown = true;
      return el("p", { class: "ask", text: asked.text || "" });
    });
    if (!shown && asked.text) lead.append(el("p", { class: "ask", text: asked.text }));
    const parts = [lead];
    if (asked.help) {
      parts.push(el("details", { class: "help" }, [el("summary", { text: t.why }), el("p", { text: asked.help })]));
    }
    return parts;
  }

  function outcome(reply, t) {
    const found = reply.outcome;
    const cards = contacts(found.contacts, t);
    const quotes = citations(found.citations, t);
    const swap = (kind) => {
      if (kind === "numbered" && cards) return cards;
      if (kind === "sources" && quotes) return quotes;
      return undefined;
    };
    const lead = prose(reply.text, swap, Array.isArray(reply.key_lines) ? reply.key_lines : []);
    return [lead];
  }

  function body(reply, t) {
    if (reply.kind === "answer" && reply.answer) {
      const answer = reply.answer;
      return [
        paragraphs(answer.answer, "lead"),
        citations(answer.citations, t),
        contacts(answer.contacts, t),
      ];
    }
    if (reply.kind === "question" && reply.question) return question(reply, t);
    if (reply.kind === "outcome" && reply.outcome) return outcome(reply, t);
    if (summaryOf(reply)) return [el("p", { class: "lead", text: t.summaryReady })];
    return [prose(reply.text)];
  }

  function summaryOf(reply) {
    const found = reply && reply.data && reply.data.summary;
    return found && typeof found.markdown === "string" ? found : null;
  }

  function summaryLinks(reply, t, handlers) {
    const summary = summaryOf(reply);
    if (!summary) return null;
    const name = /^[\w.-]{1,80}$/.test(summary.filename || "") ? summary.filename : "ribot-summary";
    const md = el("a", { class: "download", download: `${name}.md`, "data-format": "md" }, [t.summaryMarkdown]);
    md.href = handlers.summaryUrl(summary, "md");
    const links = el("div", { class: "summary-links" }, [md]);
    if (typeof summary.html === "string") {
      const html = el("a", { class: "download", download: `${name}.html`, "data-format": "html" }, [t.summaryHtml]);
      html.href = handlers.summaryUrl(summary, "html");
      links.append(html);
    }
    const preview = el("details", { class: "summary-preview" }, [
      el("summary", { text: t.summaryShow }),
      el("pre", { text: summary.markdown }),
    ]);
    return el("div", { class: "summary" }, [links, preview]);
  }

  function entry(item, t, handlers) {
    if (item.who === "user") {
      return el("article", { class: "msg user" }, [
        el("h2", { class: "visually-hidden", text: t.you }),
        el("p", { text: item.text }),
      ]);
    }
    const reply = item.reply || { kind: "text", text: "" };
    const who = item.who === "person" ? t.person : t.bot;
    const lang = item.who === "bot" && typeof reply.language === "string" ? reply.language : null;
    const node = el("article", { class: `msg bot kind-${reply.kind}${item.who === "person" ? " person" : ""}`, lang }, [
      el("h2", { class: item.who === "person" ? "from" : "visually-hidden", text: who }),
    ]);
    node.append(...body(reply, t).filter(Boolean));
    const buttons = actions(reply, item, t, handlers);
    if (buttons) node.append(buttons);
    const links = summaryLinks(reply, t, handlers);
    if (links) node.append(links);
    return node;
  }

  window.RibotRender = { el, entry, paragraphs, summaryOf };
})();
