/* Every officer page: a form sent with POST is sent once. A second click while the first is on
 * its way would register the skrivelse, or create the document, twice. A page the browser
 * shows again from its history (the back button) may be sent anew. */
(function () {
  "use strict";

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
    if (!event.persisted) return;
    document.querySelectorAll("form[data-skickas]").forEach(function (form) {
      delete form.dataset.skickas;
      form.removeAttribute("aria-busy");
    });
  });
})();
