// SLA countdowns in the inbox: every element with data-sla-due (an ISO instant) shows
// "due in 1h 12m" or "overdue 5m" and ticks each second. The server renders the same text
// (inbox/sla_countdown.py), so this only keeps it current. data-soon is the "Breaching soon"
// window in seconds: within it the countdown is styled as a warning.
(function () {
  "use strict";

  function span(seconds) {
    var days = Math.floor(seconds / 86400);
    var hours = Math.floor((seconds % 86400) / 3600);
    var minutes = Math.floor((seconds % 3600) / 60);
    var secs = seconds % 60;
    if (days) return days + "d " + hours + "h";
    if (hours) return hours + "h " + minutes + "m";
    if (minutes >= 10) return minutes + "m";
    return minutes + "m " + (secs < 10 ? "0" : "") + secs + "s";
  }

  function update(element, browserNow) {
    var due = Date.parse(element.dataset.slaDue);
    if (isNaN(due)) return;
    var left = Math.floor((due - browserNow) / 1000);
    var soon = parseInt(element.dataset.soon, 10) || 0;
    var state = left < 0 ? "overdue" : left <= soon ? "soon" : "ok";
    var text = left < 0 ? "overdue " + span(-left) : "due in " + span(left);
    if (element.textContent !== text) element.textContent = text;
    ["ok", "soon", "overdue"].forEach(function (name) {
      element.classList.toggle("sla-" + name, name === state);
    });
  }

  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-sla-due]").forEach(function (element) {
      update(element, now);
    });
  }

  document.addEventListener("DOMContentLoaded", tick);
  document.addEventListener("htmx:afterSettle", tick);
  setInterval(tick, 1000);
})();
