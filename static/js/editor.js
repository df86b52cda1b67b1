// Text editors on signed-in pages: a Write / Preview switch for Markdown fields (`.js-markdown textarea`) and
// @mention suggestions (those and `textarea.js-mentions`). Each form works as a plain textarea without this.
// Loaded as a module; labels come from data-i18n-* attributes on <body> so they are translated by the server.

const body = document.body;
const csrfMeta = document.querySelector('meta[name="csrf-token"]');
const MARKDOWN = ".js-markdown textarea";
const MENTIONS = "textarea.js-mentions";
const DEBOUNCE_MS = 150;

function t(key) {
  return body.dataset[key] || "";
}

let uid = 0;
function nextId(prefix) {
  uid += 1;
  return `${prefix}-${uid}`;
}

// ---------------------------------------------------------------------------------------------------------------
// Markdown preview

function previewErrorMessage(data) {
  if (data && data.fields && typeof data.fields.body === "string") return data.fields.body;
  return t("i18nPreviewError");
}

async function fetchPreview(text, signal) {
  const response = await fetch("/api/v1/preview", {
    method: "POST",
    credentials: "same-origin",
    signal,
    headers: {
      Accept: "application/json",
      "Content-Type": "application/json",
      "X-CSRFToken": csrfMeta ? csrfMeta.content : "",
    },
    body: JSON.stringify({ body: text }),
  });
  let data = null;
  try {
    data = await response.json();
  } catch (error) {
    data = null;
  }
  if (!response.ok || !data || typeof data.html !== "string") {
    const failure = new Error("preview failed");
    failure.userMessage = previewErrorMessage(data);
    throw failure;
  }
  return data;
}

function makeButton(label, pressed) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "md-tab";
  button.textContent = label;
  button.setAttribute("aria-pressed", pressed ? "true" : "false");
  return button;
}

function enhanceMarkdown(textarea, editable) {
  const field = textarea.closest(".js-markdown");
  const label = field.querySelector(`label[for="${CSS.escape(textarea.id)}"]`);
  if (label && !label.id) label.id = nextId("md-label");

  const tabs = document.createElement("div");
  tabs.className = "md-tabs";
  tabs.setAttribute("role", "group");
  if (label) tabs.setAttribute("aria-labelledby", label.id);
  const writeButton = makeButton(t("i18nWrite"), true);
  const previewButton = makeButton(t("i18nPreview"), false);
  tabs.append(writeButton, previewButton);

  const preview = document.createElement("div");
  preview.className = "md-preview";
  preview.id = nextId("md-preview");
  preview.setAttribute("aria-live", "polite");
  preview.hidden = true;
  previewButton.setAttribute("aria-controls", preview.id);

  editable.before(tabs);
  editable.after(preview);
  field.classList.add("md-editor");

  let controller = null;

  function showMessage(text, className) {
    const message = document.createElement("p");
    message.className = className;
    message.textContent = text;
    preview.replaceChildren(message);
  }

  async function showPreview() {
    writeButton.setAttribute("aria-pressed", "false");
    previewButton.setAttribute("aria-pressed", "true");
    // Keep the preview about as tall as the textarea so the page does not jump.
    preview.style.minHeight = `${textarea.offsetHeight}px`;
    editable.hidden = true;
    preview.hidden = false;
    preview.setAttribute("aria-busy", "true");
    if (controller) controller.abort();
    const text = textarea.value;
    if (!text.trim()) {
      showMessage(t("i18nPreviewEmpty"), "md-preview-note");
      preview.removeAttribute("aria-busy");
      return;
    }
    showMessage(t("i18nPreviewLoading"), "md-preview-note");
    controller = new AbortController();
    const mine = controller;
    try {
      const data = await fetchPreview(text, mine.signal);
      if (mine !== controller) return;
      // The server renders and sanitises the Markdown with the same allowlist as a saved post.
      const content = document.createElement("div");
      content.className = "prose";
      content.innerHTML = data.html;
      preview.replaceChildren(content);
      if (typeof data.note === "string") {
        const note = document.createElement("p");
        note.className = "md-preview-note";
        note.textContent = data.note;
        preview.prepend(note);
      }
    } catch (error) {
      if (mine !== controller || error.name === "AbortError") return;
      showMessage(error.userMessage || t("i18nPreviewError"), "md-preview-error");
    } finally {
      if (mine === controller) {
        preview.removeAttribute("aria-busy");
        controller = null;
      }
    }
  }

  function showWrite(focus) {
    if (controller) controller.abort();
    controller = null;
    writeButton.setAttribute("aria-pressed", "true");
    previewButton.setAttribute("aria-pressed", "false");
    preview.hidden = true;
    preview.removeAttribute("aria-busy");
    preview.replaceChildren();
    editable.hidden = false;
    if (focus) textarea.focus();
  }

  writeButton.addEventListener("click", () => showWrite(true));
  previewButton.addEventListener("click", () => {
    if (previewButton.getAttribute("aria-pressed") !== "true") showPreview();
  });
  // If the browser refuses to submit because of this field, show it again so the message can point at it.
  textarea.addEventListener("invalid", () => showWrite(false));
}

// ---------------------------------------------------------------------------------------------------------------
// @mention suggestions with <text-expander> (@github/text-expander-element)

const peopleCache = new Map();

async function fetchPeople(query, signal) {
  if (peopleCache.has(query)) return peopleCache.get(query);
  const response = await fetch(`/api/v1/people?q=${encodeURIComponent(query)}`, {
    credentials: "same-origin",
    signal,
    headers: { Accept: "application/json" },
  });
  if (!response.ok) throw new Error(`people: ${response.status}`);
  const data = await response.json();
  const items = Array.isArray(data.items) ? data.items : [];
  if (peopleCache.size > 50) peopleCache.clear();
  peopleCache.set(query, items);
  return items;
}

function buildListbox(items) {
  const list = document.createElement("ul");
  list.className = "mention-suggestions";
  list.setAttribute("role", "listbox");
  list.setAttribute("aria-label", t("i18nMentions"));
  for (const person of items) {
    if (!person || typeof person.handle !== "string") continue;
    const option = document.createElement("li");
    option.setAttribute("role", "option");
    option.id = nextId("mention-option");
    option.dataset.value = person.handle;
    const name = document.createElement("span");
    name.className = "mention-name";
    name.textContent = person.display_name || person.handle;
    const handle = document.createElement("span");
    handle.className = "mention-handle";
    handle.textContent = `@${person.handle}`;
    option.append(name, " ", handle);
    const city = person.city_name || person.city;
    if (city) {
      const place = document.createElement("span");
      place.className = "mention-city";
      place.textContent = ` · ${city}`;
      option.append(place);
    }
    list.append(option);
  }
  return list;
}

function keepInViewport(expander) {
  const menu = expander.querySelector(".mention-suggestions");
  if (!menu) return;
  const overflow = menu.getBoundingClientRect().right - (document.documentElement.clientWidth - 8);
  if (overflow > 0) menu.style.left = `calc(${getComputedStyle(menu).left} - ${overflow}px)`;
}

function enhanceMentions(expander) {
  let timer = null;
  let controller = null;
  // Only the newest provide() promise is ever resolved: the element then ignores the older keystrokes instead of
  // closing and reopening the list for each one (an unresolved promise with no references is simply collected).
  let resolveLatest = null;

  function settle(result) {
    const resolve = resolveLatest;
    resolveLatest = null;
    if (resolve) resolve(result);
  }

  expander.addEventListener("text-expander-change", (event) => {
    const { key, text, provide } = event.detail;
    if (key !== "@") return;
    clearTimeout(timer);
    if (controller) controller.abort();
    controller = null;
    resolveLatest = null;
    const query = text.trim();
    if (!query || query.length > 40) {
      provide(Promise.resolve({ matched: false }));
      return;
    }
    provide(new Promise((resolve) => { resolveLatest = resolve; }));
    timer = setTimeout(async () => {
      const mine = new AbortController();
      controller = mine;
      try {
        const items = await fetchPeople(query, mine.signal);
        if (controller !== mine) return;
        const list = buildListbox(items);
        settle({ matched: list.childElementCount > 0, fragment: list });
      } catch (error) {
        if (controller === mine) settle({ matched: false });
      } finally {
        if (controller === mine) controller = null;
      }
    }, peopleCache.has(query) ? 0 : DEBOUNCE_MS);
  });

  expander.addEventListener("text-expander-value", (event) => {
    const { key, item } = event.detail;
    if (key === "@" && item && item.dataset.value) event.detail.value = `@${item.dataset.value}`;
  });

  expander.addEventListener("text-expander-activate", () => {
    requestAnimationFrame(() => keepInViewport(expander));
  });
}

// ---------------------------------------------------------------------------------------------------------------

function enhance(textarea, withMentions) {
  if (textarea.dataset.editor) return;
  textarea.dataset.editor = "on";
  let editable = textarea;
  if (withMentions) {
    const expander = document.createElement("text-expander");
    expander.setAttribute("keys", "@");
    expander.className = "mention-expander";
    // Move the textarea in before the element is connected: <text-expander> looks for it in connectedCallback.
    const parent = textarea.parentNode;
    const next = textarea.nextSibling;
    expander.append(textarea);
    parent.insertBefore(expander, next);
    enhanceMentions(expander);
    editable = expander;
  }
  if (textarea.matches(MARKDOWN)) enhanceMarkdown(textarea, editable);
}

function enhanceAll(root, withMentions) {
  const found = [];
  if (root.matches && root.matches(`${MARKDOWN}, ${MENTIONS}`)) found.push(root);
  if (root.querySelectorAll) found.push(...root.querySelectorAll(`${MARKDOWN}, ${MENTIONS}`));
  for (const textarea of found) enhance(textarea, withMentions);
}

async function start() {
  if (!body.dataset.user) return;
  let withMentions = false;
  try {
    await import("../vendor/text-expander-element.js");
    withMentions = true;
  } catch (error) {
    // Without the widget (e.g. `make vendor` not run) the previews still work and @handles can be typed.
    console.warn("Mention suggestions are unavailable:", error);
  }
  enhanceAll(document, withMentions);
  // Posts and comment forms that arrive live (threads.js) get the same treatment.
  new MutationObserver((records) => {
    for (const record of records) {
      for (const node of record.addedNodes) {
        if (node.nodeType === Node.ELEMENT_NODE) enhanceAll(node, withMentions);
      }
    }
  }).observe(document.querySelector("main") || body, { childList: true, subtree: true });
}

start();
