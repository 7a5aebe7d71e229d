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
