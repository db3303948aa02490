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

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (event.defaultPrevented || (form.method || "").toLowerCase() !== "post") return;
    if (form.dataset.skickas) {
      event.preventDefault();
      return;
    }
    form.dataset.skickas = "1";
    form.setAttribute("aria-busy", "true");
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
