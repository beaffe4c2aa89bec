// A live region announces what changes in it, not what it held when the page loaded: the
// message the server rendered is taken out and put back a moment later, with a button
// that closes it (it stays in view while the page scrolls).
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var region = document.getElementById("flash");
    if (!region || !region.firstElementChild) {
      return;
    }
    var message = region.firstElementChild;
    var close = document.createElement("button");
    close.type = "button";
    close.className = "flash-close";
    close.textContent = region.getAttribute("data-close") || "×";
    close.addEventListener("click", function () {
      region.textContent = "";
    });
    region.removeChild(message);
    window.setTimeout(function () {
      message.appendChild(close);
      region.appendChild(message);
    }, 150);
  });
})();
