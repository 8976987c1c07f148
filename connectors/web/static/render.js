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

  function sectionLabel(section, t) {
    const id = String(section || "");
    if (/^fn\d+$/.test(id)) return `${t.footnote} ${id.slice(2)}`;
    if (id === "meta") return "";
    return `${t.section} ${id}`;
  }

  function citations(list, t) {
    if (!Array.isArray(list) || list.length === 0) return null;
    const box = el("div", { class: "sources" }, [el("h3", { text: t.sources })]);
    for (const cite of list) {
      const label = [sectionLabel(cite.section, t), cite.title].filter(Boolean).join(" · ");
      box.append(
        el("details", { class: "citation", "data-section": cite.section }, [
          el("summary", {}, [el("span", { class: "section", text: label })]),
          el("blockquote", { text: cite.quote || "" }),
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
    return el("div", { class: "contacts" }, [el("h3", { text: t.contacts }), el("ul", {}, items)]);
  }

  function riskAreas(list, labels, t) {
    if (!Array.isArray(list) || list.length === 0) return null;
    const names = list.map((id) => el("li", { text: (labels && labels[id]) || id }));
    return el("div", { class: "risk-areas" }, [el("h3", { text: t.riskAreas }), el("ul", {}, names)]);
  }

  const FIXED_LABELS = {
    "triage:start": "startTriage",
    "triage:back": "back",
    "triage:restart": "restart",
    "triage:cancel": "cancel",
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

  function body(reply, t) {
    const parts = [];
    if (reply.kind === "answer" && reply.answer) {
      const answer = reply.answer;
      parts.push(paragraphs(answer.answer, "lead"));
      if (answer.grounded === false) parts.push(el("p", { class: "ungrounded", text: t.ungrounded }));
      parts.push(citations(answer.citations, t), contacts(answer.contacts, t));
    } else if (reply.kind === "outcome" && reply.outcome) {
      const outcome = reply.outcome;
      parts.push(paragraphs(reply.text, "lead"));
      parts.push(riskAreas(outcome.risk_areas, outcome.labels, t));
      parts.push(contacts(outcome.contacts, t), citations(outcome.citations, t));
    } else {
      parts.push(paragraphs(reply.text, reply.kind === "question" ? "lead question" : "lead"));
    }
    return parts;
  }

  function summaryLinks(entry, t, handlers) {
    if (!entry.summary) return null;
    const md = el("a", { class: "download", download: "ribot-summary.md", "data-format": "md" }, [t.summaryMarkdown]);
    const html = el("a", { class: "download", download: "ribot-summary.html", "data-format": "html" }, [t.summaryHtml]);
    md.href = handlers.summaryUrl(entry.summary, "md");
    html.href = handlers.summaryUrl(entry.summary, "html");
    return el("div", { class: "summary-links" }, [el("span", { text: t.summaryReady }), md, html]);
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
    const node = el("article", { class: `msg bot kind-${reply.kind}${item.who === "person" ? " person" : ""}` }, [
      el("h2", { class: item.who === "person" ? "from" : "visually-hidden", text: who }),
    ]);
    node.append(...body(reply, t).filter(Boolean));
    const buttons = actions(reply, item, t, handlers);
    if (buttons) node.append(buttons);
    if (item.feedback) node.append(el("p", { class: "thanks", text: t.feedbackThanks }));
    const links = summaryLinks(item, t, handlers);
    if (links) node.append(links);
    return node;
  }

  window.RibotRender = { el, entry, paragraphs };
})();
