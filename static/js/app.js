// Small progressive enhancements; every page works without them.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  const source = document.querySelector(button.dataset.copy);
  if (source && navigator.clipboard) {
    navigator.clipboard.writeText(source.textContent.trim()).then(() => { button.textContent = "Copied"; });
  }
});
document.body && document.body.addEventListener("htmx:responseError", (event) => {
  const box = document.getElementById("messages");
  if (box && event.detail.xhr.status >= 500) {
    box.insertAdjacentHTML("beforeend", '<p class="flash flash-error" role="alert">The server could not complete that request. Try again.</p>');
  }
});
// Behaviour the templates ask for with data- attributes (the Content-Security-Policy allows no inline script).
document.addEventListener("submit", (event) => {
  const form = event.target.closest("form[data-confirm]");
  if (form && !window.confirm(form.dataset.confirm)) {
    event.preventDefault();
    event.stopPropagation();
  }
}, true);
document.addEventListener("click", (event) => {
  const box = event.target.closest("input[data-check-all]");
  if (!box) return;
  document.querySelectorAll(box.dataset.checkAll).forEach((other) => { other.checked = box.checked; });
});
document.addEventListener("htmx:xhr:progress", (event) => {
  const form = event.target.closest("[data-upload-progress]");
  const bar = form && form.querySelector("progress");
  if (bar && event.detail.total) bar.value = event.detail.loaded / event.detail.total * 100;
});
// Requests HTMX makes without a user action (polling, load triggers) do not count as activity for the session's
// idle timeout (portal/session_expiry.py).
document.addEventListener("htmx:configRequest", (event) => {
  if (!event.detail.triggeringEvent) event.detail.headers["X-Background-Request"] = "1";
});
