// Kepai Station: the little JavaScript there is. Every page works without it.
// htmx sends the CSRF token as a header on every request it makes.
document.addEventListener("htmx:configRequest", function (event) {
  var meta = document.querySelector('meta[name="csrf-token"]');
  if (meta) { event.detail.headers["X-CSRFToken"] = meta.content; }
});
// A confirm step for buttons that carry data-confirm (deletes), when JavaScript runs.
document.addEventListener("submit", function (event) {
  var message = event.target.getAttribute("data-confirm");
  if (message && !window.confirm(message)) { event.preventDefault(); event.stopPropagation(); }
}, true);
