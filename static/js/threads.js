// The thread page: new replies, votes, edits and accepted marks arrive live; the page works without this.
(function () {
  "use strict";

  function fetchHtml(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } }).then(function (response) {
      if (!response.ok) throw new Error(response.status);
      return response.text();
    });
  }

  function fragmentUrl(root, postId) {
    return root.dataset.fragmentUrl.replace(/\/0\/fragment$/, "/" + postId + "/fragment");
  }

  function announce(root, text) {
    var status = root.querySelector(".live-status");
    if (status) status.textContent = text;
  }

  function replacePost(root, postId) {
    var existing = document.getElementById("post-" + postId);
    if (!existing) return Promise.resolve();
    var restore = keepDrafts(existing);
    return fetchHtml(fragmentUrl(root, postId)).then(function (html) {
      existing.outerHTML = html;
      restore();
    });
  }

  // Comments being written survive the answers being redrawn around them.
  function keepDrafts(container) {
    var drafts = {};
    container.querySelectorAll("details.comment-form").forEach(function (details) {
      var area = details.querySelector("textarea");
      if (area && (area.value || details.open)) drafts[area.id] = { value: area.value, open: details.open };
    });
    return function restore() {
      Object.keys(drafts).forEach(function (id) {
        var area = document.getElementById(id);
        if (!area) return;
        area.value = drafts[id].value;
        area.closest("details").open = drafts[id].open;
      });
    };
  }

  function refreshAnswers(root) {
    var answers = root.querySelector("[data-answers]");
    var restore = keepDrafts(answers);
    return fetchHtml(answers.dataset.answersUrl).then(function (html) {
      answers.innerHTML = html;
      restore();
    });
  }

  function onEvent(root, event) {
    if (String(event.thread_id) !== root.dataset.thread) return;
    if (event.type === "post") {
      if (document.getElementById("post-" + event.post_id)) return; // already shown, e.g. our own reply
      var update = event.kind === "comment" ? replacePost(root, event.parent_id) : refreshAnswers(root);
      update.then(function () { announce(root, root.dataset.msgNew); });
    } else if (event.type === "vote" || event.type === "edited") {
      replacePost(root, event.post_id);
    } else if (event.type === "accepted" || event.type === "deleted") {
      refreshAnswers(root).then(function () { announce(root, root.dataset.msgChanged); });
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    var root = document.querySelector("[data-thread]");
    var socket = window.comunidade && window.comunidade.socket;
    if (!root || !socket) return;
    var threadId = Number(root.dataset.thread);
    function watch() {
      socket.emit("watch", { thread_id: threadId }, function (ack) {
        if (ack && ack.ok) document.body.dataset.watching = String(threadId);
      });
    }
    socket.on("connect", watch);
    if (socket.connected) watch();
    socket.on("thread_event", function (event) { onEvent(root, event); });
  });
})();
