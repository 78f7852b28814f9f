// The composer's file inputs: a choice over the desk's limits (how many files, how large each)
// is named at once, and the form is not sent until it is mended. The desk checks every file
// again when the form arrives (its type read off its bytes, its name cleaned).
(function () {
  "use strict";
  var INPUTS = "input[type=file][data-max-files]";
  function problemOf(input) {
    var most = parseInt(input.getAttribute("data-max-files"), 10);
    var largest = parseInt(input.getAttribute("data-max-bytes"), 10);
    var files = Array.prototype.slice.call(input.files || []);
    if (files.length > most) return "Choose at most " + most + " files.";
    var big = files.filter(function (f) { return f.size > largest; })[0];
    if (big) return big.name + " is larger than " + Math.floor(largest / 1048576) + " MB.";
    return "";
  }
  document.addEventListener("change", function (event) {
    var input = event.target;
    if (!input.matches || !input.matches(INPUTS)) return;
    var problem = problemOf(input);
    input.setCustomValidity(problem);
    var shown = document.getElementById(input.id + "-problem");
    if (shown) {
      shown.textContent = problem;
      shown.hidden = !problem;
    }
  });
})();
