// Live updates arrive as htmx out-of-band swaps over the "ws" extension (inbox/web/live/updates.py,
// and for customers inbox/web/live/portal.py).
// A row or timeline entry that arrives replaces the one already on the page with its id, so
// a changed ticket moves to the top instead of showing twice; the "no tickets" row goes.
document.addEventListener("htmx:oobBeforeSwap", function (event) {
  var target = event.detail.target;
  event.detail.fragment.querySelectorAll("[id]").forEach(function (arriving) {
    var old = document.getElementById(arriving.id);
    if (old && old !== target) old.remove();
  });
  if (target.id === "ticket-rows" || target.id === "portal-tickets") {
    target.querySelectorAll(":scope > .empty-row").forEach(function (row) { row.remove(); });
  }
});

// Typing in the reply box tells the ticket's live socket (templates/partials/presence.html):
// one event on the body, so the reply form may be swapped out and in again. A trigger filter
// would do the same, but htmx evaluates those as code, which the page's policy forbids.
document.addEventListener("input", function (event) {
  if (event.target.id === "reply-body") {
    document.body.dispatchEvent(new CustomEvent("reply-typing"));
  }
});
