// Computes the commitment (SHA-256 of the secret) on this device, so the secret itself is
// never sent before the draw is announced. The secret field has no name: it is not posted.
(function () {
  "use strict";
  var secret = document.getElementById("f-secret-local");
  var commitment = document.getElementById("f-commitment");
  if (!secret || !commitment || !window.crypto || !window.crypto.subtle) return;
  function update() {
    var bytes = new TextEncoder().encode(secret.value);
    window.crypto.subtle.digest("SHA-256", bytes).then(function (digest) {
      commitment.value = Array.from(new Uint8Array(digest))
        .map(function (b) { return b.toString(16).padStart(2, "0"); })
        .join("");
    });
  }
  secret.addEventListener("input", update);
  // Typed before this (deferred) script ran, on a slow connection or a busy device.
  if (secret.value) update();
})();
