// "Copy" on the new API key page. Without JavaScript the button stays hidden and the
// key can be selected in its field and copied by hand.
(function () {
  "use strict";
  var button = document.querySelector("[data-copy-key]");
  if (!button || !navigator.clipboard) { return; }
  var field = document.querySelector(button.getAttribute("data-copy-key"));
  var status = document.querySelector("[data-copy-status]");
  if (!field) { return; }
  button.hidden = false;
  button.addEventListener("click", function () {
    navigator.clipboard.writeText(field.value).then(function () {
      button.textContent = "Copied";
      if (status) { status.textContent = "The key was copied to the clipboard."; }
      window.setTimeout(function () { button.textContent = "Copy"; }, 2500);
    }, function () {
      field.select();
      if (status) { status.textContent = "Copying failed: the key is selected, copy it by hand."; }
    });
  });
})();
