// The score sheet's saved/unsaved state. htmx posts the form a moment after each change;
// this script shows what is happening and never lets a change go silently: a save that
// fails (no connection, a server error) is shown and tried again with a growing pause, and
// leaving the page with an unsaved change asks first. A newer version from another device
// comes back as a 409 that htmx swaps in, with the change that was not saved listed.
(function () {
  "use strict";

  var retryDelay = 0;
  var retryTimer = null;
  var pendingSubmitter = null;

  function form() {
    return document.getElementById("sheet-form");
  }

  function setStatus(state, text) {
    var status = document.getElementById("save-status");
    if (!status) return;
    status.setAttribute("data-state", state);
    status.setAttribute("role", state === "error" || state === "retrying" ? "alert" : "status");
    status.textContent = text;
  }

  function text(name, seconds) {
    var value = form() ? form().getAttribute("data-text-" + name) || "" : "";
    return value.replace("{s}", String(seconds));
  }

  function state() {
    var status = document.getElementById("save-status");
    return status ? status.getAttribute("data-state") : "saved";
  }

  function scheduleRetry(kind) {
    retryDelay = Math.min(retryDelay ? retryDelay * 2 : 2, 30);
    setStatus("retrying", text(kind, retryDelay));
    clearTimeout(retryTimer);
    retryTimer = setTimeout(function () {
      retryTimer = null;
      if (form()) htmx.trigger(form(), "retry");
    }, retryDelay * 1000);
  }

  function isSheetRequest(event) {
    return event.detail && event.detail.elt && event.detail.elt.id === "sheet-form";
  }

  document.addEventListener("input", function (event) {
    if (form() && form().contains(event.target)) setStatus("dirty", text("dirty"));
  });

  document.addEventListener("htmx:beforeRequest", function (event) {
    if (isSheetRequest(event)) setStatus("saving", text("saving"));
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    if (!isSheetRequest(event)) return;
    var xhr = event.detail.xhr;
    if (!xhr || xhr.status === 0) return; // htmx:sendError handles a lost connection
    if (xhr.status >= 500) {
      pendingSubmitter = null;
      scheduleRetry("failed");
      return;
    }
    retryDelay = 0;
    if (xhr.status >= 400 && xhr.status !== 409 && xhr.status !== 422) {
      setStatus("error", text("refused"));
    }
    if (pendingSubmitter && state() === "saved") {
      var submitter = pendingSubmitter;
      pendingSubmitter = null;
      form().requestSubmit(submitter);
    } else {
      pendingSubmitter = null;
    }
  });

  // Take the member to the sheet's notice of what went wrong, wherever they were.
  function focusProblem() {
    var notice = document.getElementById("form-error");
    if (notice) notice.focus();
  }

  // A newer version from another device replaced the sheet: its notice lists the change
  // that was not saved.
  document.addEventListener("htmx:afterSettle", function (event) {
    var xhr = event.detail && event.detail.xhr;
    if (xhr && xhr.status === 409) focusProblem();
  });

  document.addEventListener("htmx:sendError", function (event) {
    if (isSheetRequest(event)) scheduleRetry("offline");
  });

  document.addEventListener("htmx:timeout", function (event) {
    if (isSheetRequest(event)) scheduleRetry("offline");
  });

  window.addEventListener("online", function () {
    if (retryTimer && form()) {
      clearTimeout(retryTimer);
      retryTimer = null;
      htmx.trigger(form(), "retry");
    }
  });

  // Submitting (save draft, review) waits for a save under way, so the version it sends is
  // the newest; a change not yet sent is sent first.
  document.addEventListener("submit", function (event) {
    if (event.target !== form()) return;
    var current = state();
    if (current === "saving" || current === "dirty" || current === "retrying") {
      event.preventDefault();
      pendingSubmitter = event.submitter || null;
      if (current === "dirty") htmx.trigger(form(), "retry");
    }
  });

  // A sheet page that comes back with a problem (a review with reasons missing, say): the
  // list of what is wrong, not below the fold.
  focusProblem();

  window.addEventListener("beforeunload", function (event) {
    var current = state();
    if (form() && (current === "dirty" || current === "saving" || current === "retrying")) {
      event.preventDefault();
      event.returnValue = text("leave");
    }
  });
})();
