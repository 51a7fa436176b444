/* The main menu on a narrow screen: folded behind a "Menu" button (aria-expanded says whether it
   is open; Escape closes it and returns focus to the button). Without this script the menu is
   simply always shown, stacked. */
(function () {
  "use strict";
  function start() {
    var button = document.querySelector(".menu-toggle");
    var header = document.querySelector(".topbar");
    var menu = button && document.getElementById(button.getAttribute("aria-controls"));
    if (!button || !header || !menu) { return; }
    header.classList.add("menu-folds");
    button.hidden = false;
    function set(open) {
      button.setAttribute("aria-expanded", open ? "true" : "false");
      header.classList.toggle("menu-open", open);
    }
    button.addEventListener("click", function () {
      set(button.getAttribute("aria-expanded") !== "true");
    });
    menu.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && button.getAttribute("aria-expanded") === "true") {
        set(false);
        button.focus();
      }
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
