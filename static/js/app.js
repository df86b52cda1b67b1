// Progressive enhancement shared by every page; each page works without it.
(function () {
  "use strict";

  // Registration: preselect the browser's own time zone when the list has it.
  function presetTimezone() {
    var select = document.querySelector(".js-browser-timezone select");
    if (!select || select.dataset.touched) return;
    var zone;
    try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { return; }
    if (zone && select.querySelector('option[value="' + zone.replace(/"/g, "") + '"]')) select.value = zone;
  }

  // Forms that ask before doing something that cannot be undone.
  function confirmForms() {
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.dataset.confirm)) event.preventDefault();
      });
    });
  }

  // Signed-in pages keep one Socket.IO connection for notifications and live updates.
  function connectSocket() {
    if (!document.body.dataset.user || typeof window.io !== "function") return;
    var socket = window.io({ transports: ["websocket", "polling"] });
    window.comunidade = window.comunidade || {};
    window.comunidade.socket = socket;
    socket.on("connect", function () { document.body.dataset.socket = "connected"; });
    socket.on("disconnect", function () { document.body.dataset.socket = "disconnected"; });
    followNotifications(socket);
  }

  // The header's unread badge follows new and read notifications without a reload.
  function showUnread(data) {
    var badge = document.getElementById("notification-badge");
    if (!badge || !data || typeof data.unread !== "number") return;
    badge.querySelector(".notification-count").textContent = String(data.unread);
    if (data.unread_label) badge.querySelector(".notification-label").textContent = data.unread_label;
    badge.hidden = data.unread < 1;
  }

  function followNotifications(socket) {
    socket.on("notification", function (data) {
      showUnread(data);
      var status = document.getElementById("notification-status");
      if (status && data && data.text) status.textContent = data.text;
    });
    socket.on("notifications_read", showUnread);
  }

  // Move focus to a form's error summary so screen readers announce it.
  function focusErrors() {
    var summary = document.getElementById("form-errors");
    if (summary) summary.focus();
  }

  document.addEventListener("DOMContentLoaded", function () {
    presetTimezone();
    confirmForms();
    connectSocket();
    focusErrors();
  });
})();
