// Every page's messages, the answer to what was just done ("Du har attesterat …", "Föredragningslistan
// är omnumrerad.", a refusal), are spoken by a screen reader without the keyboard focus moving
// (WCAG 4.1.3): a success or an information politely, after what is being read (role=status), an
// error at once (role=alert). The focus stays where the page puts it: on the field a refusal is
// told at, or on the button of the item just moved.
//
// A screen reader speaks the changes of a live region, not the text it had when the page was
// loaded, and not a region that arrives with its text. So each message comes with an empty region
// beside its text (templates/_meddelande.html), and the text is moved into the region once the
// page has loaded and been announced. Moved, not copied: it is seen and read in the page once.
// Without this script the text stays beside its region, where it is read as any other text.
(function () {
  "use strict";
  // After the load, the screen reader first says the page's title and what has the focus; a
  // region changed meanwhile may be drowned by that or not be known to it yet.
  var EFTER_LADDNING = 300;

  function upplas() {
    document.querySelectorAll("[data-meddelande-region]").forEach(function (region) {
      var text = region.nextElementSibling;
      if (text && !region.childNodes.length) { region.append(text); }
    });
  }

  function efterLaddning() { setTimeout(upplas, EFTER_LADDNING); }

  if (document.readyState === "complete") { efterLaddning(); } else { window.addEventListener("load", efterLaddning); }
})();
