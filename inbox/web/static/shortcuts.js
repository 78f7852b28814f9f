// Keyboard shortcuts for the ticket page and the inbox. The page says what a key does:
// an element with data-shortcut="r" is focused (a button is pressed). j/k move through
// the inbox list, "?" shows the help. Nothing fires while the agent types in a field.
(function () {
  "use strict";
  var pendingG = false;

  function typing(target) {
    if (!target || !target.tagName) return false;
    var tag = target.tagName.toLowerCase();
    return tag === "input" || tag === "textarea" || tag === "select" || target.isContentEditable;
  }

  function help() { return document.getElementById("shortcut-help"); }

  function toggleHelp(show) {
    var box = help();
    if (!box) return;
    box.hidden = show === undefined ? !box.hidden : !show;
    if (!box.hidden) box.querySelector("[data-close-help]").focus();
  }

  function rows() { return Array.prototype.slice.call(document.querySelectorAll("tr.ticket-row")); }

  // On the inbox the open ticket follows j/k in the right pane (wide screens; on a phone
  // the list stays until the agent opens a row). A short wait lets a run of keys load once.
  var follow = null;
  function wide() { return window.matchMedia("(min-width: 701px)").matches; }
  function link(row) { return row && row.querySelector("td.subject a[href]"); }

  // The chosen row is remembered by its id (ticket-row-REFERENCE): a live update replaces the
  // row's element.
  var current = null;
  function mark(row) {
    document.querySelectorAll("tr.ticket-row.kb-current").forEach(function (old) {
      old.classList.remove("kb-current");
    });
    if (row) { row.classList.add("kb-current"); current = row.id; }
  }
  function remark() {
    var row = current && document.getElementById(current);
    if (row && !row.classList.contains("kb-current")) row.classList.add("kb-current");
  }
  document.addEventListener("htmx:oobAfterSwap", remark);
  document.addEventListener("htmx:afterSettle", remark);

  function move(step) {
    var list = rows();
    if (!list.length) return false;
    var index = list.findIndex(function (row) { return row.id === current; });
    var next = Math.max(0, Math.min(list.length - 1, index < 0 ? 0 : index + step));
    mark(list[next]);
    list[next].scrollIntoView({ block: "nearest" });
    if (document.getElementById("ticket-pane") && wide()) {
      clearTimeout(follow);
      follow = setTimeout(function () {
        var target = link(document.getElementById(current));
        if (target) target.click();
      }, 150);
    }
    return true;
  }

  function openCurrent() {
    var target = link(document.querySelector("tr.ticket-row.kb-current"));
    if (!target) return false;
    if (document.getElementById("ticket-pane") && window.htmx) target.click();
    else window.location.href = target.getAttribute("href");
    return true;
  }

  function activate(key) {
    var target = document.querySelector('[data-shortcut="' + key + '"]');
    if (!target) return false;
    // A composer on a tab that is not shown: pick its tab first.
    var tab = target.closest("[data-tab]");
    if (tab && document.getElementById(tab.dataset.tab)) document.getElementById(tab.dataset.tab).checked = true;
    if (target.tagName.toLowerCase() === "button") target.click();
    else { target.focus(); target.scrollIntoView({ block: "center" }); }
    return true;
  }

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key === "Escape") {
      if (help() && !help().hidden) toggleHelp(false);
      else if (typing(event.target)) event.target.blur();
      return;
    }
    if (typing(event.target)) return;
    var key = event.key, handled;
    if (pendingG) { pendingG = false; handled = key === "i" && (window.location.href = "/tickets"); }
    else if (key === "?") { toggleHelp(); handled = true; }
    else if (key === "g") { pendingG = true; handled = true; }
    else if (key === "j") handled = move(1);
    else if (key === "k") handled = move(-1);
    else if (key === "o") handled = openCurrent();
    // Enter on a focused link or button keeps its own meaning.
    else if (key === "Enter") handled = event.target === document.body && openCurrent();
    else if (key.length === 1) handled = activate(key);
    if (handled) event.preventDefault();
  });

  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("[data-close-help]")) toggleHelp(false);
  });
})();
