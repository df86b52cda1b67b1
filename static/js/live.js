// The live room (templates/live/room.html): chat, questions, polls, raised hands and presence over Socket.IO
// namespace /live. The room is rebuilt from the session's event log: each event is applied once, in seq order.
(function () {
  "use strict";

  var ACK_TIMEOUT = 10000; // milliseconds to wait for the server's answer to an action
  var REJOIN_DELAY = 1000; // milliseconds before asking again for events that are still missing
  var GAP_JOINS_MAX = 3; // joins that may come back without a missing event before the room moves on without it
  var POLL_OPTIONS_MIN = 2;
  var POLL_OPTIONS_MAX = 10;
  var ANNOUNCED_TEXT_MAX = 140; // characters of a question read out by the status line
  var AT_BOTTOM = 48; // pixels from the end of the chat under which the reader counts as following it
  var TABS = ["chat", "questions", "polls", "people"];
  // Below this width the room shows one panel at a time behind tabs (live.css's two columns start there).
  var NARROW = "(max-width: 59.99rem)";
  // app.css's brand green, ink and line colours: the chart looks like the rest of the page.
  var CHART_COLORS = { bar: "#0b5c4a", ink: "#1d2521", grid: "#cfd8d3" };
  var CHART_FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "DejaVu Sans", sans-serif';

  var root, words, socket, lang, numbers, percents, pluralRules, clock;
  var sessionId, myId, hostId, isHost;
  var els = {};
  var state = {
    lastSeq: 0, // the seq of the last event applied
    buffer: [], // live events that arrived early or after a gap, waiting for their turn
    joined: false,
    joining: false,
    joinAttempt: 0, // answers to an older join (sent before a reconnect) are ignored
    rejoinTimer: null,
    gapJoins: 0, // joins in a row that did not fill a gap
    removed: false,
    status: "scheduled",
    chatLocked: false,
    myHand: false,
    people: [],
    presenceCount: null,
    questions: new Map(),
    polls: new Map(),
    upvoted: new Set(),
    myVotes: {}, // poll id (as text) -> the option ids this viewer chose
    myQuestions: new Set(), // ids of questions this viewer asked, anonymous ones included
    removedIds: new Set(), // people the host removed, as the applied events say
    pending: new Set(), // actions sent and not answered yet, so their buttons stay disabled
    asking: null, // the text of the question being sent, whose event may come back before its answer
    catchingUp: false, // the events being applied are those missed while away
  };
  var views = { questions: new Map(), polls: new Map(), people: new Map() };
  var tabs = {
    narrow: false, // the panels are behind tabs
    active: "chat",
    unread: { chat: 0, questions: 0, polls: 0, people: 0 },
    noticePoll: null, // the poll the "new poll" notice opens
    storageKey: "",
  };
  var chatView = { atBottom: true, top: 0, unseen: 0 }; // where the reader left the chat, kept while it is hidden
  var controls = {}; // the host's start, end and lock buttons, or a participant's hand button

  // --- words and small helpers ---------------------------------------------------------------------------------

  function fill(text, values) {
    // One pass over the translated text: values (user text included) are inserted, never read as placeholders.
    return String(text).replace(/\{(\w+)\}/g, function (whole, key) {
      return values && Object.prototype.hasOwnProperty.call(values, key) ? String(values[key]) : whole;
    });
  }

  function t(key, values) {
    return fill(words[key] !== undefined ? words[key] : key, values);
  }

  function plural(key, n) {
    var form = "other";
    try {
      if (pluralRules.select(n) === "one") form = "one";
    } catch (error) {
      if (n === 1) form = "one";
    }
    return fill(words[key + "_" + form], { n: numbers.format(n) });
  }

  function make(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function makeButton(className, text, onClick) {
    var button = make("button", className, text);
    button.type = "button";
    button.addEventListener("click", onClick);
    return button;
  }

  function shorten(text, max) {
    return text.length > max ? text.slice(0, max - 1) + "…" : text;
  }

  function when(iso) {
    var moment = Date.parse(iso);
    return isNaN(moment) ? 0 : moment;
  }

  function formatTime(iso) {
    var moment = when(iso);
    return moment ? clock.format(new Date(moment)) : "";
  }

  function listOf(texts) {
    if (window.Intl && Intl.ListFormat) {
      try {
        return new Intl.ListFormat(lang, { type: "conjunction" }).format(texts);
      } catch (error) {
        // fall through to commas
      }
    }
    return texts.join(", ");
  }

  function personLabel(person) {
    return person.city ? person.name + " · " + person.city : person.name;
  }

  function canAct() {
    return state.status === "live" && !state.removed;
  }

  // --- talking to the server -----------------------------------------------------------------------------------

  function announce(text) {
    if (!text) return;
    var line = els.announcer;
    line.textContent = "";
    // A fresh text node after a pause, so a screen reader reads even a message repeated word for word.
    window.setTimeout(function () {
      line.textContent = text;
    }, 50);
  }

  function setConnection(kind) {
    els.connection.textContent = t(kind);
    els.connection.dataset.state = kind;
    root.dataset.connection = kind;
  }

  function emit(name, data, done) {
    var payload = Object.assign({ session_id: sessionId }, data || {});
    socket.timeout(ACK_TIMEOUT).emit(name, payload, function (error, ack) {
      if (error || !ack || typeof ack !== "object") ack = { ok: false, error: "no_answer", message: t("no_answer") };
      if (done) done(ack);
    });
  }

  // An action the viewer takes: refused at once when not in the room; its control waits for the answer, and
  // a refusal is shown with the server's own (translated) words next to the form, or read out.
  function act(name, data, options) {
    options = options || {};
    var key = options.key || name;
    if (options.errorEl) options.errorEl.textContent = "";
    if (!state.joined || state.pending.has(key)) {
      if (!state.joined) report(t("not_joined"), options.errorEl);
      if (options.always) options.always();
      return;
    }
    state.pending.add(key);
    if (options.control) options.control.disabled = true;
    render();
    emit(name, data, function (ack) {
      state.pending.delete(key);
      if (options.control) options.control.disabled = false;
      if (options.always) options.always();
      if (ack.ok) {
        if (options.done) options.done(ack);
      } else if (ack.error === "removed") {
        removedFromRoom(ack.message);
      } else {
        report(ack.message || t("no_answer"), options.errorEl);
      }
      render();
    });
  }

  function report(message, errorEl) {
    if (errorEl) errorEl.textContent = message;
    else announce(message);
  }

  function join() {
    if (state.removed || state.joining || !socket.connected) return;
    window.clearTimeout(state.rejoinTimer);
    state.joining = true;
    state.joinAttempt += 1;
    var attempt = state.joinAttempt;
    var returning = state.lastSeq > 0;
    emit("join", { after_seq: state.lastSeq }, function (ack) {
      if (attempt !== state.joinAttempt) return;
      state.joining = false;
      if (!ack.ok) {
        if (ack.error === "removed") {
          removedFromRoom(ack.message);
        } else if (ack.error === "no_answer" || ack.error === "rate_limited") {
          setConnection("reconnecting");
          scheduleRejoin(REJOIN_DELAY * 3);
        } else {
          // Refused for good (the session was cancelled, the seat given up...): say why, in the server's words.
          setConnection("disconnected");
          els.connection.textContent = ack.message || t("disconnected");
          announce(ack.message);
        }
        return;
      }
      var wasJoined = state.joined;
      state.joined = true;
      els.chatLog.setAttribute("aria-busy", "true"); // the history arrives at once: not read out line by line
      state.catchingUp = returning;
      (ack.events || []).forEach(function (event) {
        if (event.seq > state.lastSeq) {
          apply(event, false);
          state.lastSeq = event.seq;
        }
      });
      state.catchingUp = false;
      els.chatLog.removeAttribute("aria-busy");
      if (chatView.atBottom) scrollChatToEnd(); // a reader who had scrolled back keeps their place
      applySession(ack.session || {});
      if (Array.isArray(ack.participants)) setPeople(ack.participants, ack.participants.length);
      setConnection("connected");
      root.dataset.joined = "true";
      if (returning && !wasJoined) announce(t("caught_up"));
      drain(true);
      if (ack.more) scheduleRejoin(0); // a long history comes in pages: ask for the next one
    });
  }

  function scheduleRejoin(delay) {
    window.clearTimeout(state.rejoinTimer);
    state.rejoinTimer = window.setTimeout(join, delay);
  }

  // Live events, one or several at once (a busy room sends them together): each is applied when it is the next
  // one, dropped when the join answer had it, kept while earlier ones are missing (and those are asked for again).
  function receive() {
    if (state.removed) return;
    var fresh = Array.prototype.filter.call(arguments, function (event) {
      return event && typeof event.seq === "number" && event.seq > state.lastSeq;
    });
    if (!fresh.length) return;
    Array.prototype.push.apply(state.buffer, fresh);
    if (state.joined && !state.joining) drain();
  }

  // `afterJoin`: the join answer has just brought every stored event; a gap it left is counted, and after
  // GAP_JOINS_MAX of them the waiting events are applied anyway rather than held back for good.
  function drain(afterJoin) {
    state.buffer.sort(function (a, b) {
      return a.seq - b.seq;
    });
    var skipGap = afterJoin && state.buffer.length > 0 && state.gapJoins >= GAP_JOINS_MAX;
    var waiting = [];
    state.buffer.forEach(function (event) {
      if (event.seq <= state.lastSeq) return;
      if (!waiting.length && (event.seq === state.lastSeq + 1 || skipGap)) {
        apply(event, true);
        state.lastSeq = event.seq;
      } else {
        waiting.push(event);
      }
    });
    state.buffer = waiting;
    root.dataset.lastSeq = String(state.lastSeq);
    render();
    if (!waiting.length) {
      state.gapJoins = 0;
      return;
    }
    if (afterJoin) state.gapJoins += 1;
    scheduleRejoin(REJOIN_DELAY);
  }

  function applySession(session) {
    if (session.status) state.status = session.status;
    state.chatLocked = Boolean(session.chat_locked);
    if (session.host && session.host.id) hostId = session.host.id;
    var you = session.you || {};
    state.upvoted = new Set(you.upvoted || []);
    state.myVotes = you.poll_votes || {};
    state.myHand = Boolean(you.hand_raised);
    // The join answer names the viewer's own questions, the anonymous ones too.
    (you.asked || []).forEach(function (id) {
      state.myQuestions.add(id);
    });
  }

  // --- the event log -------------------------------------------------------------------------------------------

  function apply(event, live) {
    var data = event.data || {};
    var actor = event.actor;
    var handlers = {
      start: function () {
        state.status = "live";
        if (live) announce(t("started"));
      },
      end: function () {
        state.status = "ended";
        state.myHand = false;
        state.people.forEach(function (person) {
          person.hand_raised_at = null;
        });
        if (live) announce(t("ended"));
      },
      lock_chat: function () {
        state.chatLocked = Boolean(data.locked);
        if (live) announce(state.chatLocked ? t(isHost ? "chat_locked_host" : "chat_locked") : t("chat_unlocked"));
      },
      chat: function () {
        addChatMessage(event, live);
      },
      question: function () {
        state.questions.set(data.question_id, {
          id: data.question_id,
          text: String(data.text || ""),
          anonymous: Boolean(data.anonymous),
          author: data.author || null,
          votes: data.votes || 0,
          answered: false,
          highlighted: false,
        });
        var mine =
          state.myQuestions.has(data.question_id) ||
          (data.author && data.author.id === myId) ||
          state.asking === data.text;
        if (live && !mine) {
          announce(t("new_question", { text: shorten(String(data.text || ""), ANNOUNCED_TEXT_MAX) }));
          countUnread("questions");
        }
      },
      upvote: function () {
        var question = state.questions.get(data.question_id);
        if (question) question.votes = data.votes;
        if (actor && actor.id === myId) state.upvoted.add(data.question_id);
      },
      answer: function () {
        var question = state.questions.get(data.question_id);
        if (!question) return;
        question.answered = true;
        question.highlighted = false;
        if (live) announce(t(isMine(question) ? "your_question_answered" : "question_answered"));
      },
      highlight: function () {
        state.questions.forEach(function (question) {
          question.highlighted = question.id === data.question_id;
        });
        if (live && data.question_id !== null && data.question_id !== undefined) announce(t("question_highlighted"));
      },
      poll_open: function () {
        state.polls.set(data.poll_id, {
          id: data.poll_id,
          question: String(data.question || ""),
          options: Array.isArray(data.options) ? data.options : [],
          multiple: Boolean(data.multiple),
          open: true,
          votes: 0,
          counts: null,
        });
        if (live && !isHost) {
          announce(t("poll_opened", { question: data.question }));
          countUnread("polls");
          if (tabs.narrow && tabs.active !== "polls") tabs.noticePoll = state.polls.get(data.poll_id);
        }
      },
      poll_vote: function () {
        var poll = state.polls.get(data.poll_id);
        if (!poll) return;
        poll.votes = data.votes;
        if (data.counts) poll.counts = data.counts;
      },
      poll_close: function () {
        var poll = state.polls.get(data.poll_id);
        if (!poll) return;
        poll.open = false;
        poll.votes = data.votes;
        poll.counts = data.counts || poll.counts;
        if (live) {
          announce(t("poll_closed"));
          if (!isHost) countUnread("polls");
          if (tabs.noticePoll && tabs.noticePoll.id === poll.id) tabs.noticePoll = null;
        }
      },
      hand: function () {
        var person = findPerson(data.user_id);
        if (person) person.hand_raised_at = data.raised ? event.at || new Date().toISOString() : null;
        if (data.user_id === myId) state.myHand = Boolean(data.raised);
        sortPeople();
        if (!live) return;
        if (isHost && data.raised) {
          announce(t("hand_raised_by", { name: (person || actor || {}).name || "" }));
          countUnread("people");
        }
        if (data.user_id === myId && !data.raised && actor && actor.id !== myId) announce(t("your_hand_lowered"));
      },
      remove: function () {
        if (data.user_id === myId) {
          removedFromRoom();
          return;
        }
        var person = findPerson(data.user_id);
        state.removedIds.add(data.user_id);
        state.people = state.people.filter(function (p) {
          return p.id !== data.user_id;
        });
        if (state.presenceCount) state.presenceCount = state.people.length;
        if (live && person && isHost) announce(t("removed_other", { name: person.name }));
      },
    };
    if (Object.prototype.hasOwnProperty.call(handlers, event.type)) handlers[event.type]();
  }

  function isMine(question) {
    return state.myQuestions.has(question.id) || Boolean(question.author && question.author.id === myId);
  }

  function findPerson(id) {
    for (var i = 0; i < state.people.length; i += 1) if (state.people[i].id === id) return state.people[i];
    return null;
  }

  function setPeople(people, count) {
    state.people = people.map(function (person) {
      return Object.assign({}, person);
    });
    state.presenceCount = typeof count === "number" ? count : people.length;
    sortPeople();
  }

  // The host first, then raised hands in the order they went up, then everyone by name.
  function sortPeople() {
    state.people.sort(function (a, b) {
      if (Boolean(a.host) !== Boolean(b.host)) return a.host ? -1 : 1;
      if (Boolean(a.hand_raised_at) !== Boolean(b.hand_raised_at)) return a.hand_raised_at ? -1 : 1;
      if (a.hand_raised_at && b.hand_raised_at) {
        var order = when(a.hand_raised_at) - when(b.hand_raised_at);
        if (order) return order;
      }
      return String(a.name).localeCompare(String(b.name), lang);
    });
  }

  function removedFromRoom(message) {
    if (state.removed) return;
    state.removed = true;
    state.joined = false;
    root.dataset.removed = "true";
    root.dataset.joined = "false";
    els.removedNote.hidden = false;
    els.room.hidden = true;
    els.toolbar.hidden = true;
    els.tabList.hidden = true;
    els.pollNotice.hidden = true;
    els.waiting.hidden = true;
    announce(message || t("removed_you"));
    if (socket) socket.disconnect(); // this namespace only; the page's notifications stay connected
  }

  // --- drawing -------------------------------------------------------------------------------------------------

  function render() {
    renderHead();
    renderPeople();
    renderQuestions();
    renderPolls();
    renderTabs();
  }

  function renderHead() {
    root.dataset.status = state.status;
    els.statusLabel.textContent = (words.status || {})[state.status] || state.status;
    els.statusLabel.className = "room-status room-status-" + state.status;
    els.waiting.hidden = state.status !== "scheduled" || state.removed;
    els.endedNote.hidden = state.status !== "ended";
    els.presenceCount.textContent = state.presenceCount === null ? "" : plural("people", state.presenceCount);
    var open = state.status === "scheduled" || state.status === "live";
    if (isHost) {
      controls.start.hidden = state.status !== "scheduled";
      controls.start.disabled = state.pending.has("start");
      controls.end.hidden = !open;
      controls.end.disabled = state.pending.has("end");
      controls.lock.hidden = !open;
      controls.lock.disabled = state.pending.has("lock_chat");
      controls.lock.textContent = state.chatLocked ? t("unlock_chat") : t("lock_chat");
    } else {
      controls.hand.hidden = !open;
      controls.hand.disabled = !canAct() || state.pending.has("hand");
      controls.handLabel.textContent = state.myHand ? t("lower_hand") : t("raise_hand");
      controls.hand.classList.toggle("raised", state.myHand);
    }
    // Drafts may be written before the start; they are sent once the session is live. After the end, the forms go.
    var ended = state.status === "ended" || state.status === "cancelled";
    var chatClosed = state.chatLocked && !isHost;
    els.forms.forEach(function (form) {
      form.hidden = ended;
    });
    if (els.pollDetails) els.pollDetails.hidden = ended;
    els.chatFieldset.disabled = chatClosed;
    els.submits.forEach(function (submit) {
      submit.button.disabled = !canAct() || state.pending.has(submit.action) || (submit.action === "chat" && chatClosed);
    });
    els.chatLocked.hidden = !state.chatLocked;
    els.chatLocked.textContent = state.chatLocked ? t(isHost ? "chat_locked_host" : "chat_locked") : "";
  }

  // Keep one element per item, update it in place and only move what changed place, so focus, half-filled
  // forms and scroll positions survive the updates.
  function syncList(list, cache, items, build, update) {
    var active = document.activeElement;
    var keep = new Set();
    var nodes = items.map(function (item) {
      var node = cache.get(item.id);
      if (!node) {
        node = build(item);
        cache.set(item.id, node);
      }
      update(node, item);
      keep.add(item.id);
      return node;
    });
    cache.forEach(function (node, id) {
      if (!keep.has(id)) {
        node.remove();
        cache.delete(id);
      }
    });
    var current = Array.prototype.slice.call(list.children);
    var same =
      current.length === nodes.length &&
      nodes.every(function (node, i) {
        return current[i] === node;
      });
    if (same) return;
    nodes.forEach(function (node) {
      list.appendChild(node);
    });
    if (active && list.contains(active) && document.activeElement !== active) active.focus();
  }

  // People

  function buildPerson(person) {
    var item = make("li", "person");
    var who = make("p", "person-who");
    var refs = {
      name: make("span", "person-name"),
      you: make("span", "person-you", t("you_marker")),
      host: make("span", "badge badge-host", t("host")),
      city: make("span", "person-city"),
      hand: make("span", "hand-mark"),
    };
    refs.name.id = "person-" + person.id + "-name";
    who.append(refs.name, " ", refs.you, " ", refs.host, " ", refs.city);
    item.append(who, refs.hand);
    if (isHost && person.id !== myId) {
      var actions = make("div", "person-actions");
      refs.lower = makeButton("button small secondary", t("lower_hand_of"), function () {
        act("hand", { raised: false, user_id: person.id }, { key: "lower:" + person.id, control: refs.lower });
      });
      refs.remove = makeButton("button small danger", t("remove"), function () {
        if (!window.confirm(t("remove_confirm", { name: refs.currentName }))) return;
        act("remove", { user_id: person.id }, { key: "remove:" + person.id, control: refs.remove });
      });
      refs.lower.setAttribute("aria-describedby", refs.name.id);
      refs.remove.setAttribute("aria-describedby", refs.name.id);
      actions.append(refs.lower, refs.remove);
      item.appendChild(actions);
    }
    item.refs = refs;
    return item;
  }

  function updatePerson(item, person, order) {
    var refs = item.refs;
    refs.currentName = person.name;
    item.classList.toggle("is-host", Boolean(person.host));
    item.classList.toggle("hand-up", Boolean(person.hand_raised_at));
    refs.name.textContent = person.name;
    refs.you.hidden = person.id !== myId;
    refs.host.hidden = !person.host;
    refs.city.textContent = person.city || "";
    refs.city.hidden = !person.city;
    refs.hand.hidden = !person.hand_raised_at;
    refs.hand.textContent = "";
    if (person.hand_raised_at) {
      var icon = handIcon();
      if (icon) refs.hand.append(icon, " ");
      refs.hand.append(t("hand_order", { n: numbers.format(order) }));
    }
    if (refs.lower) {
      refs.lower.hidden = !person.hand_raised_at || state.status !== "live";
      refs.lower.disabled = state.pending.has("lower:" + person.id);
      refs.remove.hidden = Boolean(person.host) || state.status === "ended";
      refs.remove.disabled = state.pending.has("remove:" + person.id);
    }
  }

  function handIcon() {
    var template = document.getElementById("live-hand-icon");
    var icon = template && template.content ? template.content.firstElementChild : null;
    return icon ? icon.cloneNode(true) : null;
  }

  function renderPeople() {
    var raised = 0;
    var orders = {};
    state.people.forEach(function (person) {
      if (person.hand_raised_at) {
        raised += 1;
        orders[person.id] = raised;
      }
    });
    syncList(els.people, views.people, state.people, buildPerson, function (item, person) {
      updatePerson(item, person, orders[person.id]);
    });
  }

  // Questions

  function authorLabel(question) {
    var mine = isMine(question);
    if (question.anonymous) {
      if (mine) return t("you_anonymous");
      if (question.author) return t("anonymous_to_others", { name: personLabel(question.author) });
      return t("anonymous");
    }
    if (!question.author) return t("anonymous");
    return mine ? question.author.name + " " + t("you_marker") : personLabel(question.author);
  }

  function buildQuestion(question) {
    var item = make("li", "question");
    item.id = "question-" + question.id;
    var textId = item.id + "-text";
    var refs = {
      score: make("p", "question-score"),
      text: make("p", "question-text", question.text),
      author: make("span", "question-author"),
      answered: make("span", "mark mark-answered"),
      onShow: make("span", "mark mark-on-show", t("on_show")),
    };
    refs.text.id = textId;
    var tick = make("span", null, "✓ ");
    tick.setAttribute("aria-hidden", "true");
    refs.answered.append(tick, t("answered"));
    var main = make("div", "question-main");
    var meta = make("p", "question-meta");
    meta.append(refs.author, " ", refs.answered, " ", refs.onShow);
    var actions = make("div", "question-actions");
    if (isHost) {
      refs.answer = makeButton("button small", t("mark_answered"), function () {
        act("answer", { question_id: question.id }, { key: "answer:" + question.id, control: refs.answer });
      });
      refs.highlight = makeButton("button small secondary", t("highlight"), function () {
        var current = state.questions.get(question.id);
        act(
          "highlight",
          { question_id: current && current.highlighted ? null : question.id },
          { key: "highlight", control: refs.highlight }
        );
      });
      actions.append(refs.answer, refs.highlight);
    } else {
      refs.upvote = makeButton("button small secondary upvote", t("upvote"), function () {
        act(
          "upvote",
          { question_id: question.id },
          {
            key: "upvote:" + question.id,
            control: refs.upvote,
            done: function () {
              state.upvoted.add(question.id);
            },
          }
        );
      });
      actions.appendChild(refs.upvote);
    }
    Array.prototype.forEach.call(actions.children, function (button) {
      button.setAttribute("aria-describedby", textId);
    });
    main.append(refs.text, meta, actions);
    item.append(refs.score, main);
    item.refs = refs;
    return item;
  }

  function updateQuestion(item, question) {
    var refs = item.refs;
    item.classList.toggle("answered", question.answered);
    item.classList.toggle("highlighted", question.highlighted);
    refs.score.textContent = plural("votes", question.votes);
    refs.author.textContent = authorLabel(question);
    refs.answered.hidden = !question.answered;
    refs.onShow.hidden = !question.highlighted;
    if (refs.upvote) {
      var voted = state.upvoted.has(question.id);
      refs.upvote.textContent = voted ? t("upvoted") : t("upvote");
      refs.upvote.classList.toggle("voted", voted);
      refs.upvote.disabled =
        voted || isMine(question) || !canAct() || state.pending.has("upvote:" + question.id);
    }
    if (refs.answer) {
      refs.answer.hidden = question.answered;
      refs.answer.disabled = state.pending.has("answer:" + question.id) || state.status === "scheduled";
      refs.highlight.hidden = question.answered || state.status !== "live";
      refs.highlight.textContent = question.highlighted ? t("unhighlight") : t("highlight");
      refs.highlight.disabled = state.pending.has("highlight");
    }
  }

  function renderQuestions() {
    var questions = Array.from(state.questions.values()).sort(function (a, b) {
      return b.votes - a.votes || a.id - b.id;
    });
    els.questionsEmpty.hidden = questions.length > 0;
    syncList(els.questions, views.questions, questions, buildQuestion, updateQuestion);
  }

  // Polls

  function optionTexts(poll, ids) {
    return poll.options
      .filter(function (option) {
        return ids.indexOf(option.id) !== -1;
      })
      .map(function (option) {
        return option.text;
      });
  }

  function buildPoll(poll) {
    var box = make("article", "poll");
    box.id = "poll-" + poll.id;
    var head = make("div", "poll-head");
    var title = make("h3", "poll-question", poll.question);
    title.id = box.id + "-title";
    box.setAttribute("aria-labelledby", title.id);
    var refs = { badge: make("span", "poll-state"), meta: make("p", "poll-meta"), results: make("div", "poll-results") };
    head.append(title, refs.badge);
    box.append(head, refs.meta);
    if (isHost) {
      refs.live = make("div", "poll-live");
      refs.live.appendChild(make("p", "hint", t("live_counts")));
      refs.counts = make("ul", "poll-counts");
      refs.live.appendChild(refs.counts);
      refs.close = makeButton("button small danger", t("close_poll"), function () {
        act("poll_close", { poll_id: poll.id }, { key: "close:" + poll.id, control: refs.close });
      });
      refs.live.appendChild(refs.close);
      box.appendChild(refs.live);
    } else {
      buildVoteForm(poll, refs);
      refs.voted = make("p", "poll-voted");
      box.append(refs.form, refs.voted);
    }
    refs.results.hidden = true;
    box.appendChild(refs.results);
    box.refs = refs;
    return box;
  }

  function buildVoteForm(poll, refs) {
    var form = make("form", "poll-vote");
    form.noValidate = true;
    var fieldset = make("fieldset", "choices");
    fieldset.appendChild(make("legend", null, poll.multiple ? t("choose_many") : t("choose_one")));
    poll.options.forEach(function (option) {
      var row = make("div", "field-check");
      var input = make("input");
      input.type = poll.multiple ? "checkbox" : "radio";
      input.name = "poll-" + poll.id;
      input.value = String(option.id);
      input.id = "poll-" + poll.id + "-option-" + option.id;
      var label = make("label", null, option.text);
      label.htmlFor = input.id;
      row.append(input, label);
      fieldset.appendChild(row);
    });
    var error = make("p", "error");
    error.setAttribute("role", "alert");
    var submit = make("button", "button small", t("vote"));
    submit.type = "submit";
    form.append(fieldset, error, submit);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var choices = Array.prototype.map.call(form.querySelectorAll("input:checked"), function (input) {
        return Number(input.value);
      });
      if (!choices.length) {
        error.textContent = t("choose_first");
        return;
      }
      act(
        "poll_vote",
        { poll_id: poll.id, choices: choices },
        {
          key: "vote:" + poll.id,
          control: submit,
          errorEl: error,
          done: function () {
            state.myVotes[String(poll.id)] = choices;
            announce(t("your_vote", { choices: listOf(optionTexts(poll, choices)) }));
          },
        }
      );
    });
    refs.form = form;
    refs.fieldset = fieldset;
    refs.submit = submit;
  }

  function updatePoll(box, poll) {
    var refs = box.refs;
    box.classList.toggle("closed", !poll.open);
    refs.badge.textContent = poll.open ? t("poll_open") : t("poll_closed_badge");
    refs.badge.className = "poll-state " + (poll.open ? "is-open" : "is-closed");
    refs.meta.textContent = plural("votes", poll.votes || 0);
    if (isHost) {
      refs.live.hidden = !poll.open;
      refs.close.disabled = state.pending.has("close:" + poll.id);
      if (poll.open) drawCounts(refs.counts, poll);
    } else {
      var mine = state.myVotes[String(poll.id)];
      refs.form.hidden = !poll.open || Boolean(mine);
      refs.fieldset.disabled = !canAct();
      refs.submit.disabled = !canAct() || state.pending.has("vote:" + poll.id);
      refs.voted.hidden = !mine;
      refs.voted.textContent = mine ? t("your_vote", { choices: listOf(optionTexts(poll, mine)) }) : "";
    }
    if (!poll.open && poll.counts && !refs.drawn) {
      refs.drawn = true;
      refs.results.hidden = false;
      drawResults(refs.results, poll);
    }
  }

  function countOf(poll, option) {
    return Number((poll.counts || {})[String(option.id)] || 0);
  }

  function drawCounts(list, poll) {
    list.textContent = "";
    poll.options.forEach(function (option) {
      var item = make("li");
      item.append(make("span", "poll-count-text", option.text), " ", make("strong", null, numbers.format(countOf(poll, option))));
      list.appendChild(item);
    });
  }

  // Closed polls: a bar chart for the eye and a table with the same counts for everyone.
  function drawResults(container, poll) {
    var counts = poll.options.map(function (option) {
      return countOf(poll, option);
    });
    var body = make("div", "poll-results-body");
    var chartBox = make("div", "poll-chart");
    var canvas = make("canvas");
    canvas.setAttribute("role", "img");
    canvas.setAttribute("aria-label", t("chart_label", { question: poll.question }));
    chartBox.appendChild(canvas);

    var table = make("table", "poll-table");
    table.appendChild(make("caption", null, t("results")));
    var head = make("thead");
    var headRow = make("tr");
    [t("option"), t("votes_heading"), t("share")].forEach(function (text, i) {
      var cell = make("th", i ? "number" : null, text);
      cell.scope = "col";
      headRow.appendChild(cell);
    });
    head.appendChild(headRow);
    var rows = make("tbody");
    poll.options.forEach(function (option, i) {
      var row = make("tr");
      var name = make("th", null, option.text);
      name.scope = "row";
      var share = poll.votes ? counts[i] / poll.votes : 0;
      row.append(name, make("td", "number", numbers.format(counts[i])), make("td", "number", percents.format(share)));
      rows.appendChild(row);
    });
    table.append(head, rows);
    var tableWrap = make("div", "table-wrap");
    tableWrap.appendChild(table);
    body.append(chartBox, tableWrap);
    container.appendChild(body);

    if (typeof window.Chart !== "function") {
      chartBox.hidden = true;
      return;
    }
    // Chart.js sizes itself to its box: give the box a height that fits every bar (a CSSOM style, which the
    // page's Content-Security-Policy allows).
    // The option names get at most about half the chart's width (Chart.js's limit for an axis), so they are
    // wrapped to the width there is, again after each resize, and the chart grows as tall as they need; the
    // table has the names whole.
    function fontSizeFor(width) {
      return width < 360 ? 12 : 13;
    }
    function labelsFor(width) {
      var length = Math.max(8, Math.min(30, Math.floor((width / 2 - 16) / (fontSizeFor(width) * 0.6))));
      return poll.options.map(function (option) {
        return wrapLabel(option.text, length);
      });
    }
    function heightFor(width) {
      var rows = labelsFor(width).reduce(function (total, lines) {
        return total + Math.max(36, lines.length * fontSizeFor(width) * 1.3 + 16);
      }, 0);
      return Math.round(rows + 40) + "px";
    }
    function tickFont(context) {
      return { family: CHART_FONT, size: fontSizeFor(context.chart.width) };
    }
    chartBox.style.height = heightFor(chartBox.clientWidth);
    new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: poll.options.map(function (option) {
          return option.text;
        }),
        datasets: [
          {
            label: t("votes_heading"),
            data: counts,
            backgroundColor: CHART_COLORS.bar,
            borderRadius: 3,
            maxBarThickness: 28,
          },
        ],
      },
      options: {
        indexAxis: "y",
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        locale: lang,
        onResize: function (chart, size) {
          var height = heightFor(size.width);
          if (chartBox.style.height !== height) chartBox.style.height = height;
        },
        font: { family: CHART_FONT },
        plugins: {
          legend: { display: false },
          tooltip: {
            callbacks: {
              title: function (items) {
                return items.length ? poll.options[items[0].dataIndex].text : "";
              },
              label: function (item) {
                return plural("votes", item.raw);
              },
            },
          },
        },
        scales: {
          x: {
            beginAtZero: true,
            ticks: { precision: 0, color: CHART_COLORS.ink, font: tickFont },
            grid: { color: CHART_COLORS.grid },
          },
          y: {
            ticks: {
              autoSkip: false,
              color: CHART_COLORS.ink,
              font: tickFont,
              callback: function (value, index) {
                return labelsFor(this.chart.width)[index];
              },
            },
            grid: { display: false },
          },
        },
      },
    });
  }

  // An option's name on up to three lines of `length` characters, cut short with an ellipsis beyond that.
  function wrapLabel(text, length) {
    var lines = [];
    var line = "";
    text.split(/\s+/).forEach(function (word) {
      if (line && (line + " " + word).length > length) {
        lines.push(line);
        line = word;
      } else {
        line = line ? line + " " + word : word;
      }
    });
    if (line) lines.push(line);
    var cut = lines.length > 3;
    lines = lines.slice(0, 3).map(function (part) {
      return shorten(part, length);
    });
    if (cut) lines[2] = lines[2].replace(/…$/, "").slice(0, length - 1) + "…";
    return lines;
  }

  function renderPolls() {
    var polls = Array.from(state.polls.values()).sort(function (a, b) {
      return b.id - a.id; // the newest first
    });
    els.pollsEmpty.hidden = polls.length > 0;
    syncList(els.polls, views.polls, polls, buildPoll, updatePoll);
  }

  // Chat

  function addChatMessage(event, live) {
    var data = event.data || {};
    var actor = event.actor || {};
    var item = make("li", "chat-message");
    item.classList.toggle("mine", actor.id === myId);
    item.classList.toggle("from-host", actor.id === hostId);
    var meta = make("p", "chat-meta");
    meta.appendChild(make("span", "chat-author", actor.name || t("anonymous")));
    if (actor.id === hostId) meta.append(" ", make("span", "badge badge-host", t("host")));
    var time = make("time", "chat-time", formatTime(event.at));
    time.dateTime = event.at || "";
    meta.append(" ", time);
    item.append(meta, make("p", "chat-text", String(data.text || "")));
    var mine = actor.id === myId;
    var following = chatShown() ? chatAtBottom() : chatView.atBottom;
    els.chat.appendChild(item);
    els.chatEmpty.hidden = true;
    // Messages a reconnection brought are as new to the reader as live ones, but read out as one "caught up".
    var fresh = live || state.catchingUp;
    if (following || mine) {
      scrollChatToEnd();
    } else if (fresh) {
      chatView.unseen += 1;
      els.chatJump.hidden = false;
    }
    if (!fresh || mine) return;
    if (!live) {
      if (!chatShown()) countUnread("chat");
    } else if (chatShown()) {
      announceChat(t("chat_said", { name: actor.name || t("anonymous"), text: shorten(String(data.text || ""), ANNOUNCED_TEXT_MAX) }));
    } else {
      countUnread("chat");
      announceChat(plural("chat_new", tabs.unread.chat || 1));
    }
  }

  function announceChat(text) {
    var line = els.chatAnnouncer;
    line.textContent = "";
    window.setTimeout(function () {
      line.textContent = text;
    }, 50);
  }

  // The chat's log is drawn (its panel shown, on a phone) only while its tab is the active one.
  function chatShown() {
    return els.chatLog.clientHeight > 0;
  }

  function chatAtBottom() {
    var log = els.chatLog;
    return log.scrollHeight - log.scrollTop - log.clientHeight < AT_BOTTOM;
  }

  function scrollChatToEnd() {
    els.chatLog.scrollTop = els.chatLog.scrollHeight;
    chatView.atBottom = true;
    chatView.unseen = 0;
    els.chatJump.hidden = true;
  }

  function setUpChatScroll() {
    els.chatLog.addEventListener("scroll", function () {
      if (!chatShown()) return;
      chatView.top = els.chatLog.scrollTop;
      chatView.atBottom = chatAtBottom();
      if (chatView.atBottom) {
        chatView.unseen = 0;
        els.chatJump.hidden = true;
      }
    });
    els.chatJump.addEventListener("click", function () {
      scrollChatToEnd();
      els.chatLog.focus();
    });
  }

  // Back on the chat: the newest message if the reader was following it, else where they left off.
  function restoreChatPlace() {
    if (chatView.atBottom) scrollChatToEnd();
    else els.chatLog.scrollTop = chatView.top;
  }

  // --- tabs (narrow screens) -----------------------------------------------------------------------------------

  function countUnread(name) {
    if (!tabs.narrow || tabs.active === name) return;
    tabs.unread[name] += 1;
  }

  function renderTabs() {
    TABS.forEach(function (name) {
      var tab = els.tabs[name];
      var n = tabs.narrow && tabs.active !== name ? tabs.unread[name] : 0;
      tab.count.hidden = n === 0;
      tab.figure.textContent = n ? numbers.format(n) : "";
      tab.words.textContent = n ? " " + plural("unread", n) : "";
    });
    var poll = tabs.noticePoll;
    var showNotice = Boolean(tabs.narrow && poll && poll.open && tabs.active !== "polls" && !state.removed);
    els.pollNotice.hidden = !showNotice;
    if (showNotice) els.pollNoticeButton.textContent = t("poll_notice", { question: shorten(poll.question, ANNOUNCED_TEXT_MAX) });
  }

  function rememberTab(name) {
    try {
      window.sessionStorage.setItem(tabs.storageKey, name);
    } catch (error) {
      // private browsing or storage turned off: the tab is simply not remembered
    }
  }

  function savedTab() {
    try {
      var name = window.sessionStorage.getItem(tabs.storageKey);
      return TABS.indexOf(name) >= 0 ? name : null;
    } catch (error) {
      return null;
    }
  }

  function selectTab(name, focus) {
    if (tabs.active === "chat" && name !== "chat" && chatShown()) {
      chatView.top = els.chatLog.scrollTop;
      chatView.atBottom = chatAtBottom();
    }
    tabs.active = name;
    tabs.unread[name] = 0;
    if (name === "polls") tabs.noticePoll = null;
    rememberTab(name);
    layOutPanels();
    if (focus) els.tabs[name].button.focus();
    renderTabs();
  }

  // The WAI-ARIA tabs pattern while narrow; plain labelled sections side by side while wide.
  function layOutPanels() {
    els.tabList.hidden = !tabs.narrow;
    root.classList.toggle("room-tabbed", tabs.narrow);
    TABS.forEach(function (name) {
      var tab = els.tabs[name];
      var panel = tab.panel;
      var selected = tabs.narrow && tabs.active === name;
      tab.button.setAttribute("aria-selected", selected ? "true" : "false");
      tab.button.tabIndex = selected ? 0 : -1;
      if (tabs.narrow) {
        panel.setAttribute("role", "tabpanel");
        panel.setAttribute("aria-labelledby", tab.button.id);
        panel.hidden = !selected;
      } else {
        panel.removeAttribute("role");
        panel.setAttribute("aria-labelledby", panel.dataset.heading);
        panel.hidden = false;
      }
    });
    if (!tabs.narrow) {
      TABS.forEach(function (name) {
        tabs.unread[name] = 0;
      });
      tabs.noticePoll = null;
    }
    if (!tabs.narrow || tabs.active === "chat") restoreChatPlace();
  }

  function setUpTabs() {
    els.tabList = find("[data-tabs]");
    els.tabs = {};
    TABS.forEach(function (name) {
      var button = els.tabList.querySelector('[data-tab="' + name + '"]');
      var panel = find('[data-panel="' + name + '"]');
      panel.dataset.heading = panel.getAttribute("aria-labelledby");
      els.tabs[name] = {
        button: button,
        panel: panel,
        count: button.querySelector("[data-tab-count]"),
        figure: button.querySelector("[data-count-figure]"),
        words: button.querySelector("[data-count-words]"),
      };
      button.addEventListener("click", function () {
        selectTab(name, false);
      });
    });
    els.tabList.addEventListener("keydown", function (event) {
      var at = TABS.indexOf(tabs.active);
      var next = {
        ArrowRight: (at + 1) % TABS.length,
        ArrowLeft: (at + TABS.length - 1) % TABS.length,
        Home: 0,
        End: TABS.length - 1,
      }[event.key];
      if (next === undefined) return;
      event.preventDefault();
      selectTab(TABS[next], true);
    });
    els.pollNoticeButton.addEventListener("click", function () {
      var poll = tabs.noticePoll;
      selectTab("polls", false);
      var node = poll && views.polls.get(poll.id);
      var target = node && node.querySelector("input, button");
      if (target) target.focus();
      else els.tabs.polls.button.focus();
    });
    tabs.storageKey = "comunidade.live.tab." + sessionId;
    tabs.active = savedTab() || "chat";
    var narrow = window.matchMedia(NARROW);
    tabs.narrow = narrow.matches;
    var follow = function (change) {
      tabs.narrow = change.matches;
      layOutPanels();
      renderTabs();
    };
    if (typeof narrow.addEventListener === "function") narrow.addEventListener("change", follow);
    else narrow.addListener(follow);
    layOutPanels();
  }

  // The on-screen keyboard shrinks the visual viewport only: lift the sticky composer by what it covers.
  function setUpKeyboard() {
    var viewport = window.visualViewport;
    if (!viewport) return;
    var lift = function () {
      var covered = Math.max(0, window.innerHeight - viewport.height - viewport.offsetTop);
      root.style.setProperty("--keyboard-inset", Math.round(covered) + "px");
    };
    viewport.addEventListener("resize", lift);
    viewport.addEventListener("scroll", lift);
    lift();
  }

  // --- forms ---------------------------------------------------------------------------------------------------

  function setUpChatForm(form) {
    var text = form.querySelector("textarea");
    var error = form.querySelector("[data-form-error]");
    var submit = form.querySelector("button[type=submit]");
    text.addEventListener("keydown", function (event) {
      if (event.key !== "Enter" || event.shiftKey || event.isComposing || event.ctrlKey || event.altKey || event.metaKey) {
        return;
      }
      event.preventDefault();
      if (submit.disabled) return;
      if (typeof form.requestSubmit === "function") form.requestSubmit(submit);
      else submit.click();
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var message = text.value.trim();
      if (!message) {
        error.textContent = t("text_missing");
        return;
      }
      act("chat", { text: message }, {
        control: submit,
        errorEl: error,
        done: function () {
          text.value = "";
          text.focus();
        },
      });
    });
  }

  function rememberAsked(questionId) {
    state.myQuestions.add(questionId);
  }

  function setUpQuestionForm(form) {
    var text = form.querySelector("textarea");
    var anonymous = form.querySelector("input[type=checkbox]");
    var error = form.querySelector("[data-form-error]");
    var submit = form.querySelector("button[type=submit]");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var question = text.value.trim();
      if (!question) {
        error.textContent = t("text_missing");
        return;
      }
      state.asking = question;
      act("question", { text: question, anonymous: anonymous.checked }, {
        control: submit,
        errorEl: error,
        done: function (ack) {
          if (typeof ack.question_id === "number") rememberAsked(ack.question_id);
          text.value = "";
          anonymous.checked = false;
        },
        always: function () {
          state.asking = null;
        },
      });
    });
  }

  function setUpPollForm(form) {
    var list = form.querySelector("[data-poll-options]");
    var add = form.querySelector('[data-action="add-option"]');
    var question = form.querySelector("#poll-question");
    var multiple = form.querySelector("#poll-multiple");
    var error = form.querySelector("[data-form-error]");
    var submit = form.querySelector("button[type=submit]");

    function renumber() {
      var items = Array.prototype.slice.call(list.children);
      items.forEach(function (item, i) {
        var n = numbers.format(i + 1);
        item.refs.input.id = "poll-option-" + (i + 1);
        item.refs.label.htmlFor = item.refs.input.id;
        item.refs.label.textContent = t("option_n", { n: n });
        item.refs.remove.setAttribute("aria-label", t("remove_option_n", { n: n }));
        item.refs.remove.disabled = items.length <= POLL_OPTIONS_MIN;
      });
      add.disabled = items.length >= POLL_OPTIONS_MAX;
    }

    function addOption() {
      var item = make("li", "poll-option");
      var label = make("label");
      var row = make("div", "poll-option-row");
      var input = make("input");
      input.type = "text";
      input.maxLength = 200;
      input.autocomplete = "off";
      var remove = makeButton("button small secondary", t("remove"), function () {
        var next = item.nextElementSibling || item.previousElementSibling;
        item.remove();
        renumber();
        if (next) next.refs.input.focus();
      });
      row.append(input, remove);
      item.append(label, row);
      item.refs = { input: input, label: label, remove: remove };
      list.appendChild(item);
      return input;
    }

    function reset() {
      question.value = "";
      multiple.checked = false;
      list.textContent = "";
      for (var i = 0; i < POLL_OPTIONS_MIN; i += 1) addOption();
      renumber();
    }

    add.addEventListener("click", function () {
      var input = addOption();
      renumber();
      input.focus();
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      error.textContent = "";
      var options = Array.prototype.map.call(list.querySelectorAll("input"), function (input) {
        return input.value.trim();
      });
      if (!question.value.trim()) {
        error.textContent = t("poll_question_missing");
        question.focus();
        return;
      }
      var empty = options.some(function (option) {
        return !option;
      });
      if (empty || options.length < POLL_OPTIONS_MIN || options.length > POLL_OPTIONS_MAX) {
        error.textContent = t("poll_options_invalid");
        return;
      }
      act("poll_open", { question: question.value.trim(), options: options, multiple: multiple.checked }, {
        control: submit,
        errorEl: error,
        done: function () {
          reset();
          els.pollDetails.open = false;
          els.pollDetails.querySelector("summary").focus(); // the form that had focus has just closed
          announce(t("poll_opened_you"));
        },
      });
    });
    reset();
  }

  // --- the page ------------------------------------------------------------------------------------------------

  function setUpControls() {
    function control(name) {
      return root.querySelector('[data-action="' + name + '"]');
    }
    if (isHost) {
      controls.start = control("start");
      controls.end = control("end");
      controls.lock = control("lock");
      controls.start.addEventListener("click", function () {
        act("start", {}, { control: controls.start });
      });
      controls.end.addEventListener("click", function () {
        if (window.confirm(t("end_confirm"))) act("end", {}, { control: controls.end });
      });
      controls.lock.addEventListener("click", function () {
        act("lock_chat", { locked: !state.chatLocked }, { control: controls.lock });
      });
    } else {
      controls.hand = control("hand");
      controls.handLabel = controls.hand.querySelector("[data-hand-label]");
      controls.hand.addEventListener("click", function () {
        var raise = !state.myHand;
        act("hand", { raised: raise }, {
          control: controls.hand,
          done: function () {
            state.myHand = raise;
          },
        });
      });
    }
  }

  function find(selector) {
    return root.querySelector(selector);
  }

  function init() {
    root = document.getElementById("live-room");
    if (!root) return;
    try {
      words = JSON.parse(document.getElementById("live-strings").textContent);
    } catch (error) {
      words = {};
    }
    lang = document.documentElement.lang || "en";
    numbers = new Intl.NumberFormat(lang);
    percents = new Intl.NumberFormat(lang, { style: "percent", maximumFractionDigits: 0 });
    pluralRules = new Intl.PluralRules(lang);
    try {
      clock = new Intl.DateTimeFormat(lang, { hour: "2-digit", minute: "2-digit", timeZone: root.dataset.timezone });
    } catch (error) {
      clock = new Intl.DateTimeFormat(lang, { hour: "2-digit", minute: "2-digit" });
    }
    sessionId = Number(root.dataset.session);
    myId = Number(root.dataset.user);
    hostId = Number(root.dataset.hostId);
    isHost = root.dataset.isHost === "true";
    state.status = root.dataset.status;

    els = {
      statusLabel: find("[data-status-label]"),
      presenceCount: find("[data-presence-count]"),
      removedNote: find("[data-removed-note]"),
      endedNote: find("[data-ended-note]"),
      toolbar: find("[data-toolbar]"),
      connection: find("[data-connection]"),
      waiting: find("[data-waiting-note]"),
      announcer: find("[data-announcer]"),
      room: find("[data-room]"),
      polls: find("[data-polls]"),
      pollsEmpty: find("[data-polls-empty]"),
      pollDetails: find("[data-poll-details]"),
      questions: find("[data-questions]"),
      questionsEmpty: find("[data-questions-empty]"),
      people: find("[data-people]"),
      chat: find("[data-chat]"),
      chatLog: find("[data-chat-log]"),
      chatEmpty: find("[data-chat-empty]"),
      chatLocked: find("[data-chat-locked]"),
      chatFieldset: find("[data-chat-fieldset]"),
      chatJump: find("[data-chat-jump]"),
      chatAnnouncer: find("[data-chat-announcer]"),
      pollNotice: find("[data-poll-notice]"),
      pollNoticeButton: find('[data-action="show-poll"]'),
    };

    if (root.dataset.removed === "true") {
      state.removed = true;
      return; // the page says so already; there is nothing to connect to
    }
    els.toolbar.hidden = false;
    els.room.hidden = false;
    setUpControls();
    setUpChatScroll();
    setUpTabs();
    setUpKeyboard();
    var forms = {
      chat: find('[data-form="chat"]'),
      question: find('[data-form="question"]'),
      poll: find('[data-form="poll"]'),
    };
    var actions = { chat: "chat", question: "question", poll: "poll_open" };
    els.forms = [];
    els.submits = [];
    Object.keys(forms).forEach(function (name) {
      if (!forms[name]) return;
      els.forms.push(forms[name]);
      els.submits.push({ button: forms[name].querySelector("button[type=submit]"), action: actions[name] });
    });
    setUpChatForm(forms.chat);
    if (forms.question) setUpQuestionForm(forms.question);
    if (forms.poll) setUpPollForm(forms.poll);
    render();

    if (typeof window.io !== "function") {
      setConnection("unavailable");
      return;
    }
    setConnection("connecting");
    socket = window.io("/live");
    socket.on("connect", join);
    socket.on("disconnect", function (reason) {
      state.joined = false;
      state.joining = false;
      state.joinAttempt += 1;
      root.dataset.joined = "false";
      if (state.removed || reason === "io client disconnect") return;
      // The server closed this namespace (signed out, or removed while away): Socket.IO will not come back alone.
      setConnection(reason === "io server disconnect" ? "disconnected" : "reconnecting");
    });
    socket.on("connect_error", function () {
      if (!state.removed) setConnection(socket.active ? "reconnecting" : "disconnected");
    });
    socket.on("event", receive);
    // After the server's message queue was away: events may have been stored that never came here. Ask for what
    // is missing when the room has gone further than this page.
    socket.on("sync", function (sync) {
      if (!sync || sync.session_id !== sessionId || typeof sync.last_seq !== "number") return;
      if (state.joined && sync.last_seq > state.lastSeq) join();
    });
    socket.on("presence", function (presence) {
      if (state.removed || !presence || !Array.isArray(presence.participants)) return;
      var people = presence.participants;
      // A list read before events this page has applied: who is there is news, their hands and removals are not.
      if (typeof presence.last_seq === "number" && presence.last_seq < state.lastSeq) {
        people = people
          .filter(function (person) {
            return !state.removedIds.has(person.id);
          })
          .map(function (person) {
            var known = findPerson(person.id);
            return known ? Object.assign({}, person, { hand_raised_at: known.hand_raised_at }) : person;
          });
      }
      setPeople(people, people.length);
      render();
    });
    if (socket.connected) join();
  }

  document.addEventListener("DOMContentLoaded", init);
})();
