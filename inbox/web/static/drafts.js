// Drafts: what an agent types into a ticket's reply or note box is kept in sessionStorage, per
// ticket and box, so moving to another ticket or chat and back finds it again (after the right
// pane was swapped, or the page reloaded). A reply or note that was sent clears its draft.
(function () {
  "use strict";
  var BOXES = "form.composer.reply textarea, form.composer.note textarea";
  function keyOf(box) {
    var ticket = box.closest("[data-reference]");
    return ticket ? "inbox-draft:" + ticket.getAttribute("data-reference") + ":" + box.id : null;
  }
  function restore(root) {
    if (!root || !root.querySelectorAll) return;
    root.querySelectorAll(BOXES).forEach(function (box) {
      var key = keyOf(box);
      var kept = key && sessionStorage.getItem(key);
      if (kept && !box.value && !box.disabled) box.value = kept;
    });
  }
  document.addEventListener("input", function (event) {
    var box = event.target;
    if (!box.matches || !box.matches(BOXES)) return;
    var key = keyOf(box);
    if (!key) return;
    try {
      if (box.value) sessionStorage.setItem(key, box.value); else sessionStorage.removeItem(key);
    } catch (e) { /* storage full or off: no draft then */ }
  });
  // The drafts of a form being sent: forgotten as it goes (the answer replaces the form, so
  // its boxes are known only now), and kept again if the desk refused it.
  function forget(form) {
    var kept = [];
    form.querySelectorAll("textarea").forEach(function (box) {
      var key = keyOf(box);
      if (key && box.value) kept.push([key, box.value]);
      if (key) sessionStorage.removeItem(key);
    });
    return kept;
  }
  document.addEventListener("htmx:beforeRequest", function (event) {
    var form = event.detail.elt;
    if (form.matches && form.matches("form.composer")) form.inboxDrafts = forget(form);
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.detail.elt;
    if (event.detail.successful || !form.inboxDrafts) return;
    form.inboxDrafts.forEach(function (draft) { sessionStorage.setItem(draft[0], draft[1]); });
  });
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.matches("form.composer") && !form.hasAttribute("hx-post")) forget(form);
  });
  document.addEventListener("htmx:afterSettle", function (event) { restore(event.detail.elt); });
  document.addEventListener("DOMContentLoaded", function () { restore(document); });
})();
