/* Live password strength meter (weak / medium / strong).
 *
 * Progressive enhancement: the forms work without this script and the server-side
 * validators have the last word. For every <input data-strength-meter> inside a form
 * with data-strength-url, the password is POSTed (debounced, CSRF token from the form)
 * to the strength endpoint, which scores it with zxcvbn and the same validators the
 * form uses. No inline script: CSP is script-src 'self'.
 */
(function () {
  "use strict";

  var DELAY_MS = 300;
  var LABELS = { weak: "Weak", medium: "Medium", strong: "Strong" };

  function field(form, name) {
    var el = form.querySelector('[name="' + name + '"]');
    return el ? el.value : "";
  }

  function attach(input) {
    var form = input.form;
    var url = form && form.getAttribute("data-strength-url");
    var tokenInput = form && form.querySelector('input[name="csrfmiddlewaretoken"]');
    if (!url || !tokenInput || !window.fetch) {
      return;
    }

    var meter = document.createElement("div");
    meter.className = "meter";
    meter.setAttribute("aria-hidden", "true");
    meter.appendChild(document.createElement("span"));

    var label = document.createElement("p");
    label.className = "meter-label";
    label.id = input.id + "_strength";
    label.setAttribute("aria-live", "polite");

    input.insertAdjacentElement("afterend", label);
    input.insertAdjacentElement("afterend", meter);
    var described = input.getAttribute("aria-describedby");
    input.setAttribute("aria-describedby", (described ? described + " " : "") + label.id);

    var timer = null;
    var seq = 0;

    function show(level, message) {
      if (level) {
        meter.setAttribute("data-level", level);
      } else {
        meter.removeAttribute("data-level");
      }
      label.setAttribute("data-level", level || "");
      label.textContent = level
        ? "Strength: " + LABELS[level] + (message ? " — " + message : "")
        : "";
    }

    function check() {
      var password = input.value;
      var mine = ++seq;
      if (!password) {
        show("", "");
        return;
      }
      fetch(url, {
        method: "POST",
        credentials: "same-origin",
        headers: {
          "Content-Type": "application/json",
          "X-CSRFToken": tokenInput.value,
        },
        body: JSON.stringify({
          password: password,
          email: field(form, "email"),
          full_name: field(form, "full_name"),
        }),
      })
        .then(function (response) {
          return response.ok ? response.json() : null;
        })
        .then(function (data) {
          // Ignore answers to older keystrokes, and any error (the form still works).
          if (mine !== seq || !data || !LABELS[data.label]) {
            return;
          }
          show(data.label, data.message);
        })
        .catch(function () {});
    }

    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(check, DELAY_MS);
    });
    if (input.value) {
      check();
    }
  }

  function init() {
    var inputs = document.querySelectorAll("input[data-strength-meter]");
    for (var i = 0; i < inputs.length; i++) {
      attach(inputs[i]);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
