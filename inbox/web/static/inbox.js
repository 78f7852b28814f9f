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
