// The chat console (templates/pages/chats.html). The page title counts the chats offered to the
// agent and the unread messages of their own chats; once the agent has allowed it (browsers
// ask only after a click), a new offer or message while the tab is not in view raises a
// notification.
(function () {
  "use strict";
  var title = document.title;
  var known = null;
  function update() {
    var counts = document.querySelector("#chat-console [data-chat-counts]");
    if (!counts) return;
    var offered = Number(counts.getAttribute("data-offered"));
    var unread = Number(counts.getAttribute("data-unread"));
    document.title = (offered + unread ? "(" + (offered + unread) + ") " : "") + title;
    var hidden = document.hidden || !document.hasFocus();
    if (known && hidden && window.Notification && Notification.permission === "granted") {
      if (offered > known.offered) {
        new Notification("A chat is offered to you", { body: counts.getAttribute("data-offer") || "", tag: "inbox-chat-offer" });
      } else if (unread > known.unread) {
        new Notification("A new chat message", { tag: "inbox-chat-message" });
      }
    }
    known = { offered: offered, unread: unread };
    var ask = document.getElementById("chat-notify");
    if (ask) ask.hidden = !window.Notification || Notification.permission !== "default";
  }
  document.addEventListener("click", function (event) {
    if (event.target.id !== "chat-notify") return;
    Notification.requestPermission().then(update);
  });
  document.addEventListener("htmx:afterSettle", update);
  document.addEventListener("DOMContentLoaded", update);
})();
