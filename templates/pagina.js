// asr-batch serve: the copy buttons, and a too large file stopped before it is sent. Everything else on the page
// works without JavaScript.
(function () {
  "use strict";
  var alleenMetScript = document.querySelectorAll("[data-copy], [data-met-script]");
  for (var i = 0; i < alleenMetScript.length; i++) {
    alleenMetScript[i].hidden = false; // without JavaScript a button could not copy, so it stays hidden
  }

  document.addEventListener("click", function (event) {
    var knop = event.target.closest ? event.target.closest("[data-copy]") : null;
    if (!knop) { return; }
    if (!knop.hasAttribute("data-label")) { knop.setAttribute("data-label", knop.textContent); }
    clearTimeout(knop.herstel);
    navigator.clipboard.writeText(knop.getAttribute("data-copy")).then(function () {
      knop.textContent = "Gekopieerd";
    }, function () {
      knop.textContent = "Niet gelukt: selecteer en kopieer zelf";
    });
    knop.herstel = setTimeout(function () { knop.textContent = knop.getAttribute("data-label"); }, 1500);
  });

  var formulier = document.querySelector("form[data-max-bytes]");
  if (formulier) {
    formulier.addEventListener("submit", function (event) {
      var bestand = formulier.querySelector("input[type=file]").files[0];
      var teGroot = bestand && bestand.size > Number(formulier.getAttribute("data-max-bytes"));
      formulier.querySelector("[data-te-groot]").hidden = !teGroot;
      if (teGroot) { event.preventDefault(); }
    });
  }
})();
