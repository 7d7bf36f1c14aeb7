// Passkeys: the browser's WebAuthn prompt for the forms marked data-passkey-form
// ("register" on Add a passkey, "2fa" at /auth/2fa/, "signin" on the sign-in page, where
// the browser's autofill also offers passkeys in the username field: see autofill()).
//
// Without JavaScript, or in a browser without WebAuthn, the forms stay hidden and the
// [data-passkey-unsupported] notes stay visible; the other ways keep working. With it:
// the options come from the form's data-options-url (POST, with the CSRF token), the
// browser prompts, and the answer is posted with the form itself, so the server answers
// with a page. A dismissed prompt posts error=cancelled (nothing is counted).
(function () {
  "use strict";
  var forms = document.querySelectorAll("[data-passkey-form]");
  if (!forms.length) { return; }
  var supported = !!(window.PublicKeyCredential && navigator.credentials &&
    navigator.credentials.create && navigator.credentials.get && window.fetch);
  if (!supported) { return; }

  Array.prototype.forEach.call(document.querySelectorAll("[data-passkey-unsupported]"), function (el) {
    el.hidden = true;
  });

  function toBytes(value) {
    var text = value.replace(/-/g, "+").replace(/_/g, "/");
    while (text.length % 4) { text += "="; }
    var raw = window.atob(text);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) { bytes[i] = raw.charCodeAt(i); }
    return bytes.buffer;
  }

  function toText(buffer) {
    if (!buffer) { return null; }
    var bytes = new Uint8Array(buffer);
    var raw = "";
    for (var i = 0; i < bytes.length; i++) { raw += String.fromCharCode(bytes[i]); }
    return window.btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function descriptors(list) {
    return (list || []).map(function (item) {
      var copy = { type: item.type, id: toBytes(item.id) };
      if (item.transports) { copy.transports = item.transports; }
      return copy;
    });
  }

  function creationOptions(options) {
    var publicKey = Object.assign({}, options);
    publicKey.challenge = toBytes(options.challenge);
    publicKey.user = Object.assign({}, options.user, { id: toBytes(options.user.id) });
    publicKey.excludeCredentials = descriptors(options.excludeCredentials);
    return publicKey;
  }

  function requestOptions(options) {
    var publicKey = Object.assign({}, options);
    publicKey.challenge = toBytes(options.challenge);
    publicKey.allowCredentials = descriptors(options.allowCredentials);
    return publicKey;
  }

  function credentialJSON(credential) {
    var response = credential.response;
    var out = {
      id: credential.id,
      rawId: toText(credential.rawId),
      type: credential.type,
      authenticatorAttachment: credential.authenticatorAttachment || null,
      clientExtensionResults: credential.getClientExtensionResults ? credential.getClientExtensionResults() : {},
      response: { clientDataJSON: toText(response.clientDataJSON) }
    };
    if (response.attestationObject) {
      out.response.attestationObject = toText(response.attestationObject);
      out.response.transports = response.getTransports ? response.getTransports() : [];
    } else {
      out.response.authenticatorData = toText(response.authenticatorData);
      out.response.signature = toText(response.signature);
      out.response.userHandle = toText(response.userHandle);
    }
    return out;
  }

  // The options of a ceremony: POST to the form's data-options-url with the CSRF token.
  function fetchOptions(form) {
    var body = new FormData();
    body.append("csrfmiddlewaretoken", form.elements.csrfmiddlewaretoken.value);
    if (form.elements.name) { body.append("name", form.elements.name.value); }
    return fetch(form.getAttribute("data-options-url"), {
      method: "POST", body: body, credentials: "same-origin",
      headers: { "Accept": "application/json" }
    }).then(function (reply) {
      return reply.json().then(function (data) {
        if (!reply.ok) { throw new Error(data.error || "Passkeys are not available right now."); }
        return data;
      });
    });
  }

  // Passkey autofill (WebAuthn conditional mediation) on the sign-in form that names its
  // username field in data-autofill (autocomplete="username webauthn"): where the
  // browser supports it, a passwordless request waits quietly from page load, and the
  // browser offers this site's passkeys among the username suggestions. Picking one
  // posts the answer with the form, as the button does.
  //
  // The challenge is single use and lives data-challenge-seconds on the server: before
  // then the waiting request is aborted and started again with a fresh one (at once on
  // return to a tab whose timer was held back while hidden). The button aborts the
  // waiting request (and waits for any options it is still fetching, so that its own
  // challenge is the session's last) before it starts its own prompt.
  function autofill(form, submitWith) {
    var selector = form.getAttribute("data-autofill");
    var field = selector ? document.querySelector(selector) : null;
    if (!field || !window.AbortController || !window.PublicKeyCredential ||
        !PublicKeyCredential.isConditionalMediationAvailable) { return null; }
    var lifetime = parseInt(form.getAttribute("data-challenge-seconds"), 10) || 300;
    // Start again this long before the server would refuse the challenge.
    var refreshAfter = Math.max(lifetime - 30, 15) * 1000;
    var controller = null;
    var loading = Promise.resolve();
    var inFlight = false;
    var fetchedAt = 0;
    var timer = null;
    var stopped = false;

    function start() {
      if (stopped) { return; }
      var mine = new AbortController();
      controller = mine;
      form.setAttribute("data-autofill-state", "loading");
      inFlight = true;
      var options = fetchOptions(form);
      loading = options.then(function () {}, function () {}).then(function () { inFlight = false; });
      options.then(function (options) {
        if (mine.signal.aborted) { return null; }
        fetchedAt = Date.now();
        clearTimeout(timer);
        timer = setTimeout(refresh, refreshAfter);
        form.setAttribute("data-autofill-state", "waiting");
        return navigator.credentials.get({
          mediation: "conditional", publicKey: requestOptions(options), signal: mine.signal
        });
      }).then(function (credential) {
        if (!credential || mine.signal.aborted) { return; }
        stop();
        form.setAttribute("data-autofill-state", "chosen");
        submitWith(credential);
      }, function () {
        // Aborted (a refresh or the button), refused options (a locked address), or the
        // browser gave up: nothing to say here; the button and the password still work.
        if (!mine.signal.aborted) { form.setAttribute("data-autofill-state", "off"); }
      });
    }

    function refresh() {
      if (stopped) { return; }
      if (document.hidden) { return; }  // visibilitychange starts it again
      if (controller) { controller.abort(); }
      start();
    }

    function stop() {
      stopped = true;
      clearTimeout(timer);
      if (controller) { controller.abort(); }
      return loading;
    }

    // The options response may start the visitor's session (it keeps the challenge): a
    // password posted while it is on its way must wait for it, or the two responses
    // could each set a session cookie and the later one, the anonymous one, would win.
    if (field.form) {
      field.form.addEventListener("submit", function (event) {
        if (!inFlight) { stop(); return; }
        event.preventDefault();
        var waited = new Promise(function (resolve) { setTimeout(resolve, 3000); });
        Promise.race([stop(), waited]).then(function () { field.form.submit(); });
      });
    }

    document.addEventListener("visibilitychange", function () {
      if (!document.hidden && !stopped && fetchedAt && Date.now() - fetchedAt >= refreshAfter) {
        refresh();
      }
    });

    PublicKeyCredential.isConditionalMediationAvailable().then(function (available) {
      if (available) { start(); } else { form.setAttribute("data-autofill-state", "unavailable"); }
    }, function () {});
    return { stop: stop };
  }

  Array.prototype.forEach.call(forms, function (form) {
    var kind = form.getAttribute("data-passkey-form");
    var status = form.querySelector("[data-passkey-status]");
    var button = form.querySelector("[data-passkey-start]");
    form.hidden = false;

    function submitWith(credential) {
      form.elements.credential.value = JSON.stringify(credentialJSON(credential));
      form.submit();
    }

    var conditional = kind === "signin" ? autofill(form, submitWith) : null;

    function say(message) {
      if (!status) { return; }
      status.textContent = message;
      status.hidden = !message;
    }

    form.addEventListener("submit", function (event) {
      if (form.elements.credential.value || form.elements.error.value) { return; }
      event.preventDefault();
      if (button) { button.disabled = true; }
      say("");
      // The browser runs one request at a time: the waiting autofill one ends first.
      var ready = conditional ? conditional.stop() : Promise.resolve();
      ready.then(function () {
        return fetchOptions(form);
      }).then(function (options) {
        if (kind === "register") {
          return navigator.credentials.create({ publicKey: creationOptions(options) });
        }
        return navigator.credentials.get({ publicKey: requestOptions(options) });
      }).then(function (credential) {
        if (!credential) { throw Object.assign(new Error("cancelled"), { name: "NotAllowedError" }); }
        submitWith(credential);
      }, function (error) {
        if (button) { button.disabled = false; }
        if (error && (error.name === "NotAllowedError" || error.name === "AbortError")) {
          // Dismissed, timed out, or no passkey of this site on the device: the server
          // forgets the challenge; the other ways stay open.
          form.elements.error.value = "cancelled";
          form.submit();
          return;
        }
        say(error && error.message && error.name === "Error" ? error.message :
          "Your browser could not use a passkey here. Try again, or use another way.");
      });
    });
  });
})();
