// "Copy all codes" on the backup codes page. Without JavaScript the button stays
// hidden and the Download link still works.
(function () {
  "use strict";
  var button = document.querySelector("[data-copy-codes]");
  if (!button || !navigator.clipboard) { return; }
  var list = document.querySelector(button.getAttribute("data-copy-codes"));
  var status = document.querySelector("[data-copy-status]");
  if (!list) { return; }
  button.hidden = false;
  button.addEventListener("click", function () {
    var codes = Array.prototype.map.call(list.querySelectorAll("li"), function (li) {
      return li.textContent.trim();
    });
    navigator.clipboard.writeText(codes.join("\n") + "\n").then(function () {
      button.textContent = "Copied";
      if (status) { status.textContent = "All " + codes.length + " codes were copied to the clipboard."; }
      window.setTimeout(function () { button.textContent = "Copy all codes"; }, 2500);
    }, function () {
      if (status) { status.textContent = "Copying failed: select the codes and copy them by hand."; }
    });
  });
})();
