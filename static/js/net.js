/*
 * Kepai Station: saying what the network is doing, with htmx's own events.
 *
 * A phone on the station's Wi-Fi may be slow (photos over 4 Mbit/s), or out of range, or
 * the laptop may be off. So:
 * - while a request is in flight, the form's submit buttons are disabled (a second tap
 *   does not send it again) and the form is aria-busy; they come back when it ends;
 * - a form sending files shows a progress bar (htmx:xhr:progress), then "waiting for the
 *   station" once everything is sent;
 * - a request that finds no station (htmx:sendError) or no answer in time (htmx:timeout)
 *   says so beside the form's buttons; the visit forms' draft (static/js/draft.js, saved
 *   on submit) is kept, and the message says so;
 * - a banner at the top says when the station is unreachable: the phone went offline
 *   (navigator.onLine and its events) or a request failed; it goes away once a request
 *   (or a look at /healthz every few seconds) gets an answer.
 * The words come from the page (<template id="kepai-texts"> and #net-status in base.html,
 * translated there). Without JavaScript none of this shows and the forms work as before.
 */
(function () {
  "use strict";

  var PROBE_EVERY_MS = 8000;
  // How long a request may go without an answer before it is said to have failed: a page,
  // a minute; a form, five (a backup, a sync run take time); files on a slow link, ten.
  var PAGE_TIMEOUT_MS = 60000;
  var FORM_TIMEOUT_MS = 300000;
  var UPLOAD_TIMEOUT_MS = 600000;
  var state = navigator.onLine === false ? "offline" : null;  // null, "offline" or "failed"
  var probe = null;

  function text(key, values) {
    var texts = document.getElementById("kepai-texts");
    var el = texts && texts.content && texts.content.querySelector('[data-key="' + key + '"]');
    var result = el ? el.textContent.trim() : "";
    Object.keys(values || {}).forEach(function (name) {
      result = result.replace("{" + name + "}", values[name]);
    });
    return result;
  }

  // The banner lives inside <body>, which htmx replaces on every boosted page: shown again
  // from ``state`` after each swap.
  function showState() {
    var banner = document.getElementById("net-status");
    if (!banner) { return; }
    Array.prototype.forEach.call(banner.querySelectorAll("[data-net]"), function (span) {
      span.hidden = span.getAttribute("data-net") !== state;
    });
    banner.hidden = !state;
  }

  function setState(next) {
    state = next;
    showState();
    if (state && !probe) {
      probe = setInterval(lookForStation, PROBE_EVERY_MS);
    } else if (!state && probe) {
      clearInterval(probe);
      probe = null;
    }
  }

  // Asks the station whether it is there again (when the phone itself says it is online).
  function lookForStation() {
    if (navigator.onLine === false || !window.fetch) { return; }
    fetch("/healthz", { cache: "no-store", credentials: "same-origin" }).then(function (response) {
      if (response.ok) { setState(null); }
    }, function () { /* still not there */ });
  }

  function hasFiles(form) {
    return Array.prototype.some.call(form.querySelectorAll('input[type="file"]'), function (input) {
      return input.files && input.files.length > 0;
    });
  }

  function submitButtons(form) {
    var inside = Array.prototype.slice.call(form.querySelectorAll(
      'button:not([type]), button[type="submit"], input[type="submit"], input[type="image"]'));
    if (form.id) {  // buttons outside the form that belong to it (form="id")
      inside = inside.concat(Array.prototype.slice.call(document.querySelectorAll(
        'button[form="' + form.id + '"], input[type="submit"][form="' + form.id + '"]')));
    }
    return inside;
  }

  function setBusy(form, busy) {
    if (busy) {
      form.setAttribute("aria-busy", "true");
      submitButtons(form).forEach(function (button) {
        if (!button.disabled) { button.disabled = true; button.setAttribute("data-net-disabled", ""); }
      });
    } else {
      form.removeAttribute("aria-busy");
      Array.prototype.forEach.call(document.querySelectorAll("[data-net-disabled]"), function (button) {
        if (button.form === form || form.contains(button)) {
          button.disabled = false;
          button.removeAttribute("data-net-disabled");
        }
      });
    }
  }

  // Where a form's own messages go: just above its buttons (where the finger is), else last.
  function place(form, el) {
    var actions = form.querySelector(".actions");
    if (actions && actions.parentNode) { actions.parentNode.insertBefore(el, actions); } else { form.appendChild(el); }
  }

  function clearNotes(form) {
    Array.prototype.forEach.call(form.querySelectorAll(".net-error, .upload-progress"), function (el) {
      el.parentNode.removeChild(el);
    });
  }

  function startProgress(form) {
    var box = document.createElement("div");
    box.className = "upload-progress";
    box.setAttribute("role", "status");
    var bar = document.createElement("progress");
    bar.max = 100;
    bar.value = 0;
    var label = document.createElement("span");
    label.textContent = text("sending", { percent: "0%" });
    box.appendChild(bar);
    box.appendChild(label);
    place(form, box);
  }

  // htmx reports the upload's progress and then the answer's under one event name: the
  // first time all is sent, the bar says "waiting for the station" and stops moving.
  function showProgress(form, detail) {
    var box = form.querySelector(".upload-progress");
    if (!box || box.hasAttribute("data-sent") || !detail.lengthComputable || !detail.total) { return; }
    var percent = Math.min(100, Math.floor(detail.loaded * 100 / detail.total));
    var bar = box.querySelector("progress");
    var label = box.querySelector("span");
    if (detail.loaded >= detail.total) {
      box.setAttribute("data-sent", "");
      bar.removeAttribute("value");  // indeterminate: the station is working on it
      label.textContent = text("sent");
    } else {
      bar.value = percent;
      label.textContent = text("sending", { percent: percent + "%" });
    }
  }

  function showFailure(elt) {
    setState(navigator.onLine === false ? "offline" : "failed");
    var form = elt && elt.closest ? elt.closest("form") : null;
    if (!form || !document.body.contains(form)) { return; }
    clearNotes(form);
    var note = document.createElement("p");
    note.className = "flash flash-error net-error";
    note.setAttribute("role", "alert");
    note.textContent = text(form.hasAttribute("data-draft-form") ? "failed-draft" : "failed");
    place(form, note);
    if (note.scrollIntoView) { note.scrollIntoView({ block: "nearest" }); }
  }

  document.addEventListener("htmx:configRequest", function (event) {
    var detail = event.detail;
    if (!detail.timeout) {
      var form = detail.elt && detail.elt.tagName === "FORM" ? detail.elt : null;
      detail.timeout = form && hasFiles(form) ? UPLOAD_TIMEOUT_MS :
        (detail.verb || "get").toLowerCase() === "get" ? PAGE_TIMEOUT_MS : FORM_TIMEOUT_MS;
    }
  });

  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail.elt;
    if (!elt || elt.tagName !== "FORM") { return; }
    clearNotes(elt);
    setBusy(elt, true);
    if (hasFiles(elt)) { startProgress(elt); }
  });

  document.addEventListener("htmx:xhr:progress", function (event) {
    var elt = event.target;
    if (elt && elt.tagName === "FORM") { showProgress(elt, event.detail); }
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    var elt = event.detail.elt;
    var xhr = event.detail.xhr;
    if (xhr && xhr.status > 0 && state === "failed") { setState(null); }  // the station answered
    if (elt && elt.tagName === "FORM") {
      setBusy(elt, false);
      Array.prototype.forEach.call(elt.querySelectorAll(".upload-progress"), function (el) {
        el.parentNode.removeChild(el);
      });
    }
  });

  document.addEventListener("htmx:sendError", function (event) { showFailure(event.detail.elt); });
  document.addEventListener("htmx:timeout", function (event) { showFailure(event.detail.elt); });
  // An answer with an error status (413, 500...) is shown by htmx as a page (see the
  // htmx-config meta); the station is there, so the banner goes.
  document.addEventListener("htmx:responseError", function () { if (state === "failed") { setState(null); } });

  // A form htmx does not send (hx-boost="false", or htmx missing): disable its buttons just
  // after the browser has taken the submitter's value; back from the next page, enabled.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (event.defaultPrevented || !form || form.tagName !== "FORM") { return; }
    setTimeout(function () { if (!event.defaultPrevented) { setBusy(form, true); } }, 0);
  });
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) {
      Array.prototype.forEach.call(document.querySelectorAll("form[aria-busy]"), function (form) {
        setBusy(form, false);
      });
    }
  });

  window.addEventListener("offline", function () { setState("offline"); });
  window.addEventListener("online", function () { setState(null); lookForStation(); });
  document.addEventListener("htmx:load", showState);  // cheap: one element by id
  document.addEventListener("DOMContentLoaded", function () { setState(state); });
})();
