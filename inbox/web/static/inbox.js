// Enter in a text field sends its form with the form's first submit button. In the inbox's
// bulk bar that is "Apply", yet Enter in the "Merge into" field means "merge": a field marked
// data-enter-presses="ID" presses the button with that id instead. A click (not
// requestSubmit) so that htmx, which notes the button clicked, sends that button's value.
document.addEventListener("keydown", function (event) {
  if (event.key !== "Enter" || event.isComposing || event.defaultPrevented) return;
  var field = event.target;
  if (!field || !field.matches || !field.matches("input[data-enter-presses]")) return;
  var button = document.getElementById(field.getAttribute("data-enter-presses"));
  if (!button || button.disabled) return;
  event.preventDefault();
  button.click();
});

// The right pane of the inbox and of the chat console: mark the row whose ticket it shows,
// and tell the stylesheet that a ticket is open (a phone then shows that pane alone).
function markOpenTicket() {
  var pane = document.getElementById("ticket-pane");
  if (!pane) return;
  var ticket = pane.querySelector("#ticket");
  pane.classList.toggle("has-ticket", !!ticket);
  var reference = ticket ? ticket.dataset.reference : null;
  document.querySelectorAll("li.chat-row[data-reference]").forEach(function (row) {
    row.classList.toggle("is-open", row.dataset.reference === reference);
  });
  // In the chat console the way back from the open chat (on a phone) is to the console.
  var back = pane.querySelector(".chat-workspace .pane-back");
  if (back) {
    back.setAttribute("href", "/chats");
    back.lastChild.textContent = " All chats";
  }
  document.querySelectorAll("tr.ticket-row").forEach(function (row) {
    var open = row.id === "ticket-row-" + reference;
    row.classList.toggle("is-open", open);
    if (open && row.classList.contains("unread")) {  // the server marked it read as it opened
      row.classList.remove("unread");
      var mark = row.querySelector(".unread-mark");
      if (mark) mark.remove();
    }
  });
}
document.addEventListener("htmx:afterSettle", markOpenTicket);
document.addEventListener("htmx:oobAfterSwap", markOpenTicket);
document.addEventListener("htmx:historyRestore", markOpenTicket);
document.addEventListener("DOMContentLoaded", markOpenTicket);
