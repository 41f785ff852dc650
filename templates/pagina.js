// asr-batch serve: the copy buttons. Everything else on the page works without JavaScript.
(function () {
  "use strict";
  var knoppen = document.querySelectorAll("[data-copy]");
  for (var i = 0; i < knoppen.length; i++) {
    knoppen[i].hidden = false; // without JavaScript they could not copy, so they stay hidden
  }
  document.addEventListener("click", function (event) {
    var knop = event.target.closest ? event.target.closest("[data-copy]") : null;
    if (!knop) { return; }
    var tekst = knop.textContent;
    navigator.clipboard.writeText(knop.getAttribute("data-copy")).then(function () {
      knop.textContent = "Gekopieerd";
    }, function () {
      knop.textContent = "Niet gelukt: selecteer en kopieer zelf";
    });
    setTimeout(function () { knop.textContent = tekst; }, 1500);
  });
})();
