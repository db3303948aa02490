/* Every officer page: a form sent with POST is sent once. A second click while the first is on
 * its way would register the skrivelse, or create the document, twice. A form that was not
 * sent after all may be sent anew: on a page the browser shows again from its history (the back
 * button), or when the officer stayed on a page that asked before being left. */
(function () {
  "use strict";

  function release() {
    document.querySelectorAll("form[data-skickas]").forEach(function (form) {
      delete form.dataset.skickas;
      form.removeAttribute("aria-busy");
    });
  }

  // A form posted once the session has ended goes to the login page, and what was typed in it
  // is gone. So the page asks first whether the officer is still logged in (the answer is a
  // redirect to the login page when not), and keeps the form, saying why, if they are not. The
  // logout form needs no session; a question that gets no answer lets the form go as before.
  var inloggad = document.body.dataset.inloggad;
  var UTLOGGAD = "Du är utloggad, så formuläret skickades inte. Det du skrev finns kvar: logga in igen i en ny " +
    "flik och skicka sedan formuläret här.";

  function sayLoggedOut(form) {
    var box = document.createElement("div");
    box.className = "fel sessionfel";
    box.setAttribute("role", "alert");
    var p = document.createElement("p");
    p.textContent = UTLOGGAD;
    box.append(p);
    form.prepend(box);
  }

  function checkSession(form, submitter) {
    fetch(inloggad, {credentials: "same-origin", cache: "no-store", headers: {"Accept": "application/json"}})
      .then(function (response) { return !response.redirected; }, function () { return true; })
      .then(function (loggedIn) {
        delete form.dataset.skickas;
        form.removeAttribute("aria-busy");
        if (!loggedIn) {
          sayLoggedOut(form);
          return;
        }
        // Logging in again (in another tab) gave the browser a new token, which the form's own
        // copy no longer matches.
        var token = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
        var field = form.querySelector("input[name=csrfmiddlewaretoken]");
        if (token && field) field.value = decodeURIComponent(token[1]);
        form.dataset.sessionOk = "1";
        if (submitter && submitter.form === form) form.requestSubmit(submitter); else form.requestSubmit();
      });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (event.defaultPrevented || (form.method || "").toLowerCase() !== "post") return;
    if (form.dataset.skickas) {
      event.preventDefault();
      return;
    }
    form.dataset.skickas = "1";
    form.setAttribute("aria-busy", "true");
    form.querySelectorAll(".sessionfel").forEach(function (box) { box.remove(); });
    if (inloggad && !form.classList.contains("logga-ut") && !form.dataset.sessionOk) {
      event.preventDefault();
      checkSession(form, event.submitter);
      return;
    }
    delete form.dataset.sessionOk;
  });

  window.addEventListener("pageshow", function (event) {
    if (event.persisted) release();
  });

  // A page with unsaved text asks before it is left (editor.js). The page waits while the
  // question is open, so this runs once it is answered: the officer who chose to stay has sent
  // nothing, and a later click must send the form rather than be silently ignored. (One who chose
  // to leave is asked again before a second click, while the first is on its way, sends anything.)
  window.addEventListener("beforeunload", function (event) {
    setTimeout(function () {
      if (event.defaultPrevented) release();
    }, 0);
  });
})();
