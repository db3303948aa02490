// Every admin page. A multiple choice searched as one types (the admin's autocomplete, select2:
// a case's cited cases) draws its chosen items and a search field in place of the <select>; the
// field had no name, so a screen reader said only "edit text". It gets the label of its <select>,
// now and whenever select2 draws it anew.
(function () {
  "use strict";

  function namnge(falt) {
    if (falt.hasAttribute("aria-label")) { return; }
    var ruta = falt.closest(".select2-container");
    var val = ruta && ruta.previousElementSibling;
    var etikett = val && val.id && document.querySelector('label[for="' + val.id + '"]');
    if (etikett) { falt.setAttribute("aria-label", etikett.textContent.trim().replace(/:$/, "")); }
  }

  function namngeAlla() {
    document.querySelectorAll(".select2-container .select2-search__field").forEach(namnge);
  }

  document.addEventListener("DOMContentLoaded", function () {
    namngeAlla();
    new MutationObserver(namngeAlla).observe(document.body, {childList: true, subtree: true});
  });
})();
