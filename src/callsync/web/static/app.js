// callsync dashboard: the only script. Asks before a destructive action (discard, reject).
document.addEventListener("submit", (event) => {
  const button = event.submitter;
  if (button && button.classList.contains("danger") && !window.confirm("Sure? This is kept for audit but cannot be undone.")) {
    event.preventDefault();
  }
});
